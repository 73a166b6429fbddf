#include "collector/net/oneshot_wait.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "boost/asio/post.hpp"
#include "collector/common/strings.h"

namespace outrigger::net {

absl::StatusOr<std::unique_ptr<OneShotWait>> OneShotWait::Make(boost::asio::io_context& io, int fd) {
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return absl::InternalError(StrCat("epoll_create1: ", std::strerror(errno)));
  epoll_event ev{};
  ev.events = 0;  // disarmed until the first Wait
  ev.data.fd = fd;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int err = errno;
    ::close(epfd);
    return absl::InternalError(StrCat("epoll_ctl: ", std::strerror(err)));
  }
  return std::unique_ptr<OneShotWait>(new OneShotWait(io, fd, epfd));
}

OneShotWait::OneShotWait(boost::asio::io_context& io, int fd, int epfd) : fd_(fd), epfd_(epfd), set_(io, epfd) {}

OneShotWait::~OneShotWait() {
  boost::system::error_code ec;
  set_.close(ec);  // closes epfd_
}

void OneShotWait::Wait(std::function<void(const boost::system::error_code&)> done) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.fd = fd_;
  if (epoll_ctl(epfd_, EPOLL_CTL_MOD, fd_, &ev) != 0) {
    // Cannot happen with a valid descriptor; report it rather than never calling back.
    const boost::system::error_code ec(errno, boost::system::system_category());
    boost::asio::post(set_.get_executor(), [done = std::move(done), ec] { done(ec); });
    return;
  }
  // Armed: if the descriptor is readable now, the set is too, and the wait ends at once.
  set_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                  [this, done = std::move(done)](const boost::system::error_code& ec) {
                    if (!ec) {
                      epoll_event got{};
                      (void)epoll_wait(epfd_, &got, 1, 0);  // takes the event: the set is quiet again
                    }
                    done(ec);
                  });
}

void OneShotWait::Cancel() {
  boost::system::error_code ec;
  set_.cancel(ec);
}

}  // namespace outrigger::net
