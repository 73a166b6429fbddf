#include "connectors/span_metrics/exponential_histogram.h"

#include <cmath>
#include <limits>

namespace outrigger::connectors::span_metrics {

int32_t ExponentialHistogram::Index(double v, int32_t scale) {
  int exp = 0;
  const double frac = std::frexp(v, &exp);  // v = frac * 2^exp, frac in [0.5, 1)
  const bool power_of_two = frac == 0.5;
  if (scale <= 0) {
    // v in (2^(exp-1), 2^exp] has index exp-1 at scale 0; an exact power of two
    // 2^(exp-1) belongs to the bucket below.
    int32_t i = power_of_two ? exp - 2 : exp - 1;
    return i >> -scale;
  }
  if (power_of_two) return ((exp - 1) << scale) - 1;
  const double factor = std::ldexp(1.0 / std::log(2.0), scale);
  return static_cast<int32_t>(std::ceil(std::log(v) * factor)) - 1;
}

void ExponentialHistogram::Record(double v) {
  if (!(v > 0) || !std::isfinite(v)) {
    ++zero_;
    return;
  }
  int32_t i = Index(v, scale_);
  if (counts_.empty()) {
    offset_ = i;
    counts_.assign(1, 1);
    return;
  }
  int64_t low = std::min<int64_t>(offset_, i);
  int64_t high = std::max<int64_t>(offset_ + static_cast<int64_t>(counts_.size()) - 1, i);
  int32_t change = 0;
  while ((high >> change) - (low >> change) + 1 > max_size_) ++change;
  if (change > 0) {
    Downscale(change);
    i = Index(v, scale_);
  }
  if (i < offset_) {
    counts_.insert(counts_.begin(), static_cast<size_t>(offset_ - i), 0);
    offset_ = i;
  } else if (i >= offset_ + static_cast<int32_t>(counts_.size())) {
    counts_.resize(static_cast<size_t>(i - offset_ + 1), 0);
  }
  ++counts_[static_cast<size_t>(i - offset_)];
}

void ExponentialHistogram::Downscale(int32_t change) {
  scale_ -= change;
  if (counts_.empty()) return;
  const int32_t new_offset = offset_ >> change;
  const int32_t new_last = (offset_ + static_cast<int32_t>(counts_.size()) - 1) >> change;
  std::vector<uint64_t> merged(static_cast<size_t>(new_last - new_offset + 1), 0);
  for (size_t k = 0; k < counts_.size(); ++k) {
    merged[static_cast<size_t>(((offset_ + static_cast<int32_t>(k)) >> change) - new_offset)] += counts_[k];
  }
  counts_ = std::move(merged);
  offset_ = new_offset;
}

void ExponentialHistogram::Reset() {
  scale_ = kMaxScale;
  offset_ = 0;
  counts_.clear();
  zero_ = 0;
}

}  // namespace outrigger::connectors::span_metrics
