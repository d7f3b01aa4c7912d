package ai.sonia.pipecat.voice;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/** Per-stage voice latency as the {@code pipecat.voice.stage} timer, tagged by stage, on /metrics. */
public final class VoiceMetrics {

    private volatile MeterRegistry registry;

    /** Binds the server's registry once it exists. */
    public void bind(MeterRegistry registry) {
        this.registry = registry;
    }

    void record(Map<String, Double> stages) {
        final MeterRegistry current = registry;
        if (current == null) {
            return;
        }
        stages.forEach((stage, millis) -> Timer.builder("pipecat.voice.stage")
                                               .description("Latency of one stage of a voice turn")
                                               .tag("stage", stage.replace("_ms", ""))
                                               .publishPercentileHistogram()
                                               .register(current)
                                               .record((long) (millis * 1000), TimeUnit.MICROSECONDS));
    }
}
