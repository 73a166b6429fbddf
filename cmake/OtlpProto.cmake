# C++ for the OTLP protocol, generated at build time from Debian's
# opentelemetry-proto package (bookworm-backports), with protoc and grpc_cpp_plugin.
find_path(OTLP_PROTO_ROOT opentelemetry/proto/trace/v1/trace.proto
  PATHS /usr/include /usr/local/include
  DOC "directory holding opentelemetry/proto/... (Debian package opentelemetry-proto)")
if(NOT OTLP_PROTO_ROOT)
  message(FATAL_ERROR "OTLP .proto files not found: apt-get install -t bookworm-backports opentelemetry-proto")
endif()

set(_otlp_messages
  common/v1/common.proto resource/v1/resource.proto trace/v1/trace.proto
  metrics/v1/metrics.proto logs/v1/logs.proto)
set(_otlp_services
  collector/trace/v1/trace_service.proto collector/metrics/v1/metrics_service.proto
  collector/logs/v1/logs_service.proto)
set(OTLP_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${OTLP_GEN_DIR})
set(_otlp_srcs)
set(_otlp_protos)
foreach(f ${_otlp_messages} ${_otlp_services})
  list(APPEND _otlp_protos ${OTLP_PROTO_ROOT}/opentelemetry/proto/${f})
endforeach()
foreach(f ${_otlp_messages} ${_otlp_services})
  string(REGEX REPLACE "\\.proto$" "" _base "opentelemetry/proto/${f}")
  set(_outs ${OTLP_GEN_DIR}/${_base}.pb.cc ${OTLP_GEN_DIR}/${_base}.pb.h)
  set(_args --cpp_out=${OTLP_GEN_DIR})
  if(f IN_LIST _otlp_services)
    list(APPEND _outs ${OTLP_GEN_DIR}/${_base}.grpc.pb.cc ${OTLP_GEN_DIR}/${_base}.grpc.pb.h)
    list(APPEND _args --grpc_out=${OTLP_GEN_DIR} --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
  endif()
  add_custom_command(
    OUTPUT ${_outs}
    COMMAND protobuf::protoc ARGS -I${OTLP_PROTO_ROOT} ${_args} ${OTLP_PROTO_ROOT}/opentelemetry/proto/${f}
    DEPENDS ${OTLP_PROTO_ROOT}/opentelemetry/proto/${f} protobuf::protoc
    COMMENT "protoc ${f}" VERBATIM)
  list(FILTER _outs INCLUDE REGEX "\\.cc$")
  list(APPEND _otlp_srcs ${_outs})
endforeach()

add_library(otlp_proto STATIC ${_otlp_srcs})
target_include_directories(otlp_proto PUBLIC ${OTLP_GEN_DIR})
target_link_libraries(otlp_proto PUBLIC protobuf::libprotobuf gRPC::grpc++)
