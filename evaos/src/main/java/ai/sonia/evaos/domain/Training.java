package ai.sonia.evaos.domain;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.protobuf.util.Timestamps;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.evaos.v1.TrainingStatus;
import ai.sonia.options.v1.RiskLevel;
import ai.sonia.runtime.auth.Principal;
import ai.sonia.runtime.errors.DomainException;

/**
 * Training mode: an admin of a tenant (or a service acting for itself, naming the tenant) locks the tenant
 * with a reason for a while (24 hours unless said, at most 7 days); anyone of the tenant reads the lock.
 * While it holds, {@link #check} refuses the tenant's actions above LOW with TRAINING_LOCKED. Every enable,
 * disable and refusal is written to EVA-OS's audit log (the {@code ai.sonia.evaos.audit} logger: who, which
 * tenant, why), never with an action's arguments.
 */
public final class Training {

    /** The TTL of a lock enabled without one. */
    public static final Duration DEFAULT_TTL = Duration.ofHours(24);
    /** The longest TTL. */
    public static final Duration MAX_TTL = Duration.ofDays(7);
    static final int MAX_REASON = 512;

    private static final Logger audit = LoggerFactory.getLogger("ai.sonia.evaos.audit");

    private final TrainingLocks locks;
    private final Clock clock;

    public Training(TrainingLocks locks, Clock clock) {
        this.locks = locks;
        this.clock = clock;
    }

    /** Locks a tenant; {@code ttl} null for the default. See the class comment for who may. */
    public TrainingStatus enable(Principal principal, String requestedTenant, String reason,
                                 Duration ttl) {
        principal.requireAdmin("enabling training mode");
        final String tenant = principal.tenantFor(requestedTenant);
        if (reason.isBlank()) {
            throw DomainException.invalidArgument("reason", "is required");
        }
        if (reason.length() > MAX_REASON) {
            throw DomainException.invalidArgument("reason", "at most " + MAX_REASON + " characters");
        }
        final Duration effective = ttl == null ? DEFAULT_TTL : ttl;
        if (effective.isNegative() || effective.isZero() || effective.compareTo(MAX_TTL) > 0) {
            throw DomainException.invalidArgument("ttl", effective + " (expected: more than 0s, at most "
                                                         + MAX_TTL.toDays() + " days)");
        }
        final Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS); // what every store keeps
        final TrainingLocks.Lock lock = new TrainingLocks.Lock(tenant, reason, principal.audit(), now,
                                                               now.plus(effective));
        locks.enable(lock);
        audit.atInfo().addKeyValue("event", "training.enable").addKeyValue("tenant", tenant)
             .addKeyValue("by", principal.audit()).addKeyValue("reason", reason)
             .addKeyValue("expires_at", lock.expiresAt().toString())
             .log("training mode on for tenant {} by {} until {}: {}", tenant, principal.audit(), lock.expiresAt(),
                  reason);
        return status(tenant, Optional.of(lock));
    }

    /** Lifts a tenant's lock (nothing happens when there is none). */
    public TrainingStatus disable(Principal principal, String requestedTenant, String reason) {
        principal.requireAdmin("disabling training mode");
        final String tenant = principal.tenantFor(requestedTenant);
        if (reason.length() > MAX_REASON) {
            throw DomainException.invalidArgument("reason", "at most " + MAX_REASON + " characters");
        }
        final Optional<TrainingLocks.Lock> lifted = locks.disable(tenant, clock.instant());
        audit.atInfo().addKeyValue("event", "training.disable").addKeyValue("tenant", tenant)
             .addKeyValue("by", principal.audit()).addKeyValue("reason", reason)
             .addKeyValue("was_enabled", lifted.isPresent())
             .log("training mode off for tenant {} by {} (was {}): {}", tenant, principal.audit(),
                  lifted.isPresent() ? "on" : "off", reason);
        return status(tenant, Optional.empty());
    }

    /** A tenant's status, for anyone of the tenant (a service names it). */
    public TrainingStatus status(Principal principal, String requestedTenant) {
        final String tenant = principal.tenantFor(requestedTenant);
        return status(tenant, locks.get(tenant, clock.instant()));
    }

    /**
     * TRAINING_LOCKED when {@code tenant} is in training mode and the action's {@code risk} is above LOW,
     * audited with who asked and for which tool.
     */
    public void check(Principal principal, String tool, RiskLevel risk) {
        if (risk == RiskLevel.RISK_LEVEL_LOW) {
            return;
        }
        final Optional<TrainingLocks.Lock> lock = locks.get(principal.tenant(), clock.instant());
        if (lock.isEmpty()) {
            return;
        }
        audit.atInfo().addKeyValue("event", "training.refusal").addKeyValue("tenant", principal.tenant())
             .addKeyValue("by", principal.audit()).addKeyValue("tool", tool).addKeyValue("risk", risk.name())
             .log("refused {} ({}) of {}: tenant in training mode", tool, risk.name(), principal.audit());
        throw locked(lock.get(), "a " + risk.name() + " action (" + tool + ")");
    }

    /** How many tenants are in training mode now (for {@code /status}). */
    public int lockedTenants() {
        return locks.countLocked(clock.instant());
    }

    /** The refusal of {@code what} while {@code lock} holds. */
    static DomainException locked(TrainingLocks.Lock lock, String what) {
        return DomainException.of(ErrorCode.ERROR_CODE_TRAINING_LOCKED,
                                  "tenant " + lock.tenant() + " is in training mode until " + lock.expiresAt()
                                  + ": " + what + " waits until an admin disables it",
                                  Map.of("tenant", lock.tenant(), "expires_at", lock.expiresAt().toString()));
    }

    private static TrainingStatus status(String tenant, Optional<TrainingLocks.Lock> lock) {
        final TrainingStatus.Builder status = TrainingStatus.newBuilder().setTenant(tenant);
        lock.ifPresent(l -> status.setEnabled(true).setReason(l.reason()).setEnabledBy(l.enabledBy())
                                  .setSince(Timestamps.fromMillis(l.since().toEpochMilli()))
                                  .setExpiresAt(Timestamps.fromMillis(l.expiresAt().toEpochMilli())));
        return status.build();
    }
}
