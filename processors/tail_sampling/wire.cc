#include "processors/tail_sampling/wire.h"

#include <cstring>

namespace outrigger::processors::tail_sampling {

bool NextField(const char*& p, const char* end, WireField* f) {
  uint64_t tag;
  if (!ReadVarint(p, end, &tag)) return false;
  f->number = static_cast<uint32_t>(tag >> 3);
  f->type = static_cast<uint32_t>(tag & 7);
  f->payload = std::string_view();
  switch (f->type) {
    case 0:
      return ReadVarint(p, end, &f->value);
    case 1:
      if (end - p < 8) return false;
      std::memcpy(&f->value, p, 8);  // little-endian hosts
      p += 8;
      return true;
    case 5: {
      if (end - p < 4) return false;
      uint32_t v;
      std::memcpy(&v, p, 4);
      f->value = v;
      p += 4;
      return true;
    }
    case 2: {
      uint64_t len;
      if (!ReadVarint(p, end, &len) || len > static_cast<uint64_t>(end - p)) return false;
      f->payload = std::string_view(p, len);
      p += len;
      return true;
    }
    default:
      return false;
  }
}

namespace {

void ParseValue(std::string_view v, AttrView* a) {
  const char* p = v.data();
  const char* end = p + v.size();
  WireField f;
  while (p < end && NextField(p, end, &f)) {
    switch (f.number) {
      case 1:
        if (f.type == 2) a->type = AttrView::kString, a->str = f.payload;
        break;
      case 2:
        if (f.type == 0) a->type = AttrView::kBool, a->b = f.value != 0;
        break;
      case 3:
        if (f.type == 0) a->type = AttrView::kInt, a->i = static_cast<int64_t>(f.value);
        break;
      case 4:
        if (f.type == 1) a->type = AttrView::kDouble;
        break;
      default:
        a->type = AttrView::kOther;
        break;
    }
  }
}

}  // namespace

void ParseAttributes(std::string_view msg, uint32_t field, std::vector<AttrView>* out) {
  const char* p = msg.data();
  const char* end = p + msg.size();
  WireField f;
  while (p < end && NextField(p, end, &f)) {
    if (f.number != field || f.type != 2) continue;
    AttrView a;
    const char* q = f.payload.data();
    const char* qend = q + f.payload.size();
    WireField kv;
    while (q < qend && NextField(q, qend, &kv)) {
      if (kv.number == 1 && kv.type == 2) a.key = kv.payload;
      if (kv.number == 2 && kv.type == 2) ParseValue(kv.payload, &a);
    }
    out->push_back(a);
  }
}

bool ParseSpan(std::string_view raw, SpanView* s) {
  s->raw = raw;
  s->trace_id = s->parent_span_id = s->trace_state = std::string_view();
  s->flags = 0;
  s->start = s->end = 0;
  s->status = 0;
  s->attrs.clear();
  const char* p = raw.data();
  const char* end = p + raw.size();
  WireField f;
  while (p < end) {
    const char* field_start = p;
    if (!NextField(p, end, &f)) return false;
    switch (f.number) {
      case 1:
        s->trace_id = f.payload;
        break;
      case 3:
        s->trace_state = f.payload;
        break;
      case 4:
        s->parent_span_id = f.payload;
        break;
      case 7:
        s->start = f.value;
        break;
      case 8:
        s->end = f.value;
        break;
      case 9:
        ParseAttributes(std::string_view(field_start, static_cast<size_t>(p - field_start)), 9, &s->attrs);
        break;
      case 15: {
        const char* q = f.payload.data();
        const char* qend = q + f.payload.size();
        WireField st;
        while (q < qend && NextField(q, qend, &st)) {
          if (st.number == 3 && st.type == 0) s->status = static_cast<int>(st.value);
        }
        break;
      }
      case 16:
        s->flags = static_cast<uint32_t>(f.value);
        break;
      default:
        break;
    }
  }
  return true;
}

}  // namespace outrigger::processors::tail_sampling
