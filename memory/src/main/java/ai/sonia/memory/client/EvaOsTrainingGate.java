package ai.sonia.memory.client;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.google.protobuf.util.Timestamps;

import com.linecorp.armeria.server.ServiceRequestContext;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.evaos.v1.EvaOsServiceGrpc.EvaOsServiceBlockingStub;
import ai.sonia.evaos.v1.GetTrainingStatusRequest;
import ai.sonia.evaos.v1.TrainingStatus;
import ai.sonia.memory.domain.TrainingGate;
import ai.sonia.runtime.Errors;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.auth.ServiceCredentialInterceptor;
import ai.sonia.runtime.errors.DomainException;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;

/**
 * The training gate that asks EVA-OS ({@code GetTrainingStatus}, as memory acting for itself and naming the
 * tenant), reusing each tenant's answer for {@code services.memory.training.cacheMs} (a lock set or lifted in
 * EVA-OS applies here within that time; a cached lock is honoured only until its own expiry). When EVA-OS
 * cannot answer, the change is refused with UNAVAILABLE naming evaos (fail closed); failures are not cached.
 */
public final class EvaOsTrainingGate implements TrainingGate {

    /** Past this many tenants, the cache starts over (tenant names a service sends are not bounded). */
    private static final int MAX_TENANTS = 10_000;
    private static final String SETTING = "services.memory.training.enforce";

    private record Answer(TrainingStatus status, long fetchedMs) {}

    private final EvaOsServiceBlockingStub evaos;
    private final Duration cacheFor;
    private final Clock clock;
    private final Map<String, Answer> answers = new ConcurrentHashMap<>();

    public EvaOsTrainingGate(EvaOsServiceBlockingStub evaos, Duration cacheFor, Clock clock) {
        this.evaos = evaos;
        this.cacheFor = cacheFor;
        this.clock = clock;
    }

    @Override
    public void checkWritable(String tenant) {
        final TrainingStatus status = status(tenant);
        if (status.getEnabled() && Timestamps.toMillis(status.getExpiresAt()) > clock.millis()) {
            throw DomainException.of(ErrorCode.ERROR_CODE_TRAINING_LOCKED,
                                     "tenant " + tenant + " is in training mode until "
                                     + Timestamps.toString(status.getExpiresAt())
                                     + ": its memories do not change until an admin disables it in EVA-OS",
                                     Map.of("tenant", tenant, "expires_at", Timestamps.toString(status.getExpiresAt())));
        }
    }

    private TrainingStatus status(String tenant) {
        final long now = clock.millis();
        final Answer cached = answers.get(tenant);
        if (cached != null && now - cached.fetchedMs() < cacheFor.toMillis()) {
            return cached.status();
        }
        final TrainingStatus fresh;
        try {
            fresh = evaos.withOption(ServiceCredentialInterceptor.ACTING_FOR, Principal.service("memory"))
                         .getTrainingStatus(GetTrainingStatusRequest.newBuilder().setTenant(tenant).build());
        } catch (StatusRuntimeException e) {
            final ServiceRequestContext ctx = ServiceRequestContext.currentOrNull();
            if (Context.current().isCancelled() || ctx != null && ctx.isTimedOut()) {
                throw e; // the caller's own deadline ran out or it gave up: nothing to say of EVA-OS
            }
            throw DomainException.of(ErrorCode.ERROR_CODE_UNAVAILABLE,
                                     "cannot change memories of tenant " + tenant + ": evaos cannot say whether it is"
                                     + " in training mode (" + Errors.envelopeCode(e) + "); " + SETTING
                                     + " = false runs memory without EVA-OS",
                                     Map.of("dependency", "evaos", "setting", SETTING));
        }
        if (answers.size() >= MAX_TENANTS) {
            answers.clear();
        }
        answers.put(tenant, new Answer(fresh, now));
        return fresh;
    }
}
