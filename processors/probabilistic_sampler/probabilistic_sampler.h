#pragma once
// The probabilistic sampler: keeps a share of spans or log records, deciding each item
// on its own from randomness it carries (the trace ID, an explicit `rv`, or a hashed log
// attribute), so every instance decides the same for the same trace. Modes and
// arithmetic are upstream's (opentelemetry-collector-contrib
// processor/probabilisticsamplerprocessor, pkg/sampling): `hash_seed` (FNV-1a, 14
// bits), `proportional` and `equalizing` (OTEP 235, `ot=th:` in the tracestate). See
// README.md.

#include <cstdint>
#include <memory>
#include <string_view>

#include "collector/component/component.h"
#include "collector/sampling/otep235.h"
#include "processors/probabilistic_sampler/config.h"

namespace outrigger::processors::probabilistic_sampler {

// upstream's hash_seed randomness (sampler_mode.go randomnessFromBytes over fnvhasher.go
// computeHash): FNV-1a 32 of the seed's 4 little-endian bytes then `bytes`; its low 14
// bits decide, the rest fill the 56-bit value.
sampling::Randomness HashSeedRandomness(std::string_view bytes, uint32_t seed);

std::unique_ptr<Processor> NewProbabilisticSampler(const CreateSettings& settings, const Config& cfg, Signal signal,
                                                   Consumer* next);

}  // namespace outrigger::processors::probabilistic_sampler
