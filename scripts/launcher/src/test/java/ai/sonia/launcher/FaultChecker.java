package ai.sonia.launcher;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.launcher.FaultHistory.Fault;
import ai.sonia.launcher.FaultHistory.Kind;
import ai.sonia.launcher.FaultHistory.Op;
import ai.sonia.memory.v1.GetMemoryRequest;
import ai.sonia.memory.v1.Memory;
import ai.sonia.memory.v1.MemoryServiceGrpc.MemoryServiceBlockingStub;
import ai.sonia.runtime.edge.ErrorMapping;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The checker: reads the history and says, per property, which operations broke it.
 * <ul>
 *   <li>{@code acknowledged-writes-survive}: every store that was answered OK can be read back, same text;</li>
 *   <li>{@code deadlines}: no call completes later than its deadline + 100 ms;</li>
 *   <li>{@code contract-codes}: every status is one the contract maps to an envelope code, and none is
 *       INTERNAL_ERROR (CANCELLED, UNKNOWN, INTERNAL, ...): a fault of a dependency or a disk is never an
 *       internal error;</li>
 *   <li>{@code tenant-isolation}: while a fault targets one tenant, every call of the other tenants
 *       succeeds in time and undegraded;</li>
 *   <li>{@code recovery}: after a fault of the whole stack heals, a store and an undegraded chat of a
 *       bystander succeed within 2 s;</li>
 *   <li>{@code baseline}: before any fault, every call succeeds (so the other checks are not vacuous).</li>
 * </ul>
 */
final class FaultChecker {

    static final long DEADLINE_SLACK_MS = 100;
    static final long RECOVERY_GOAL_MS = 2_000;
    static final Set<Status.Code> CONTRACT_CODES = contractCodes();

    /** The outcome of one property: its violations (empty when it holds) and what was measured. */
    record Check(String name, List<String> violations, List<String> measured) {
        boolean holds() {
            return violations.isEmpty();
        }
    }

    private final FaultHistory history;
    private final MemoryServiceBlockingStub reader;

    FaultChecker(FaultHistory history, MemoryServiceBlockingStub reader) {
        this.history = history;
        this.reader = reader;
    }

    Map<String, Check> check() {
        final List<Op> ops = history.ops();
        final List<Fault> faults = history.faults();
        final Map<String, Check> checks = new LinkedHashMap<>();
        for (Check c : List.of(baseline(ops, faults), acknowledgedWrites(ops), deadlines(ops), codes(ops, faults),
                               isolation(ops, faults), recovery(ops, faults))) {
            checks.put(c.name(), c);
        }
        return checks;
    }

    private Check baseline(List<Op> ops, List<Fault> faults) {
        final long first = faults.stream().mapToLong(Fault::startNanos).min().orElse(Long.MAX_VALUE);
        final List<Op> before = ops.stream().filter(op -> op.completeNanos() < first).toList();
        final List<String> violations = new ArrayList<>();
        before.stream().filter(op -> !op.ok() || op.degraded()).limit(20).forEach(op -> violations.add(describe(op)));
        if (before.isEmpty()) {
            violations.add("no call completed before the first fault");
        }
        return new Check("baseline", violations, List.of(before.size() + " calls before the first fault"));
    }

    private Check acknowledgedWrites(List<Op> ops) {
        final List<Op> acked = ops.stream().filter(op -> op.kind() == Kind.STORE && op.ok()).toList();
        final List<String> violations = new ArrayList<>();
        for (Op op : acked) {
            try {
                final Memory memory = reader.withDeadlineAfter(5, TimeUnit.SECONDS)
                                            .getMemory(GetMemoryRequest.newBuilder().setName(op.value()).build());
                if (!memory.getText().equals(op.text())) {
                    violations.add(op.value() + " reads back as \"" + memory.getText() + '"');
                }
            } catch (StatusRuntimeException e) {
                violations.add(op.value() + " acknowledged to " + op.client() + " is gone: " + e.getStatus());
            }
        }
        return new Check("acknowledged-writes-survive", violations,
                         List.of(acked.size() + " acknowledged stores read back"));
    }

    private static Check deadlines(List<Op> ops) {
        final List<String> violations = ops.stream()
                .filter(op -> op.elapsedMs() > op.deadlineMs() + DEADLINE_SLACK_MS)
                .map(op -> describe(op) + " with a " + op.deadlineMs() + " ms deadline").toList();
        final long worst = ops.stream().mapToLong(op -> op.elapsedMs() - op.deadlineMs()).max().orElse(0);
        return new Check("deadlines", violations, List.of("worst: " + worst + " ms past a deadline"));
    }

    private static Check codes(List<Op> ops, List<Fault> faults) {
        final Map<String, Long> seen = ops.stream().collect(Collectors.groupingBy(
                op -> op.kind() + " " + op.code(), TreeMap::new, Collectors.counting()));
        final List<String> violations = new ArrayList<>();
        seen.forEach((kindAndCode, count) -> {
            final String code = kindAndCode.substring(kindAndCode.indexOf(' ') + 1);
            if (!code.equals("OK") && CONTRACT_CODES.stream().noneMatch(c -> c.name().equals(code))) {
                // One example, and the fault it ran under, to find what caused it.
                final String example = ops.stream().filter(op -> (op.kind() + " " + op.code()).equals(kindAndCode))
                        .findFirst().map(op -> describe(op) + " during " + faults.stream()
                                .filter(f -> op.invokeNanos() >= f.startNanos() && op.invokeNanos() <= f.healNanos())
                                .map(Fault::name).findFirst().orElse("no fault"))
                        .orElse("");
                violations.add(kindAndCode + " x" + count + ", e.g. " + example);
            }
        });
        return new Check("contract-codes", violations, List.of("seen: " + seen));
    }

    private static Check isolation(List<Op> ops, List<Fault> faults) {
        final List<String> violations = new ArrayList<>();
        final List<String> measured = new ArrayList<>();
        for (Fault fault : faults) {
            if (fault.tenant() == null) {
                continue;
            }
            final List<Op> others = ops.stream()
                    .filter(op -> !op.tenant().equals(fault.tenant()))
                    .filter(op -> op.invokeNanos() >= fault.startNanos() && op.invokeNanos() <= fault.healNanos())
                    .toList();
            final List<Op> hurt = others.stream()
                    .filter(op -> !op.ok() || op.degraded() || op.elapsedMs() > op.deadlineMs() + DEADLINE_SLACK_MS)
                    .toList();
            final long targeted = ops.stream().filter(op -> op.tenant().equals(fault.tenant()) && !op.ok()
                    && op.invokeNanos() >= fault.startNanos() && op.invokeNanos() <= fault.healNanos()).count();
            measured.add(fault.name() + ": " + hurt.size() + " of " + others.size() + " other-tenant calls affected; "
                         + targeted + " failed calls of " + fault.tenant());
            if (others.isEmpty()) {
                violations.add(fault.name() + ": no call of another tenant ran during it (nothing was checked)");
            }
            hurt.stream().limit(5).forEach(op -> violations.add(fault.name() + ": " + describe(op)));
            if (hurt.size() > 5) {
                violations.add(fault.name() + ": ... " + (hurt.size() - 5) + " more");
            }
        }
        return new Check("tenant-isolation", violations, measured);
    }

    private static Check recovery(List<Op> ops, List<Fault> faults) {
        final List<String> violations = new ArrayList<>();
        final List<String> measured = new ArrayList<>();
        for (Fault fault : faults) {
            if (fault.tenant() != null) {
                continue;
            }
            for (Kind kind : Kind.values()) {
                final Optional<Op> first = ops.stream()
                        .filter(op -> op.kind() == kind && op.ok() && !op.degraded()
                                      && op.invokeNanos() >= fault.healNanos())
                        .min((a, b) -> Long.compare(a.completeNanos(), b.completeNanos()));
                if (first.isEmpty()) {
                    violations.add(fault.name() + ": no " + kind + " succeeded after it healed");
                    continue;
                }
                final long ms = (first.get().completeNanos() - fault.healNanos()) / 1_000_000;
                measured.add(fault.name() + ": " + kind + " back after " + ms + " ms");
                if (ms > RECOVERY_GOAL_MS) {
                    violations.add(fault.name() + ": " + kind + " back only after " + ms + " ms");
                }
            }
        }
        return new Check("recovery", violations, measured);
    }

    private static String describe(Op op) {
        final String detail = op.detail().length() > 80 ? op.detail().substring(0, 80) + "..." : op.detail();
        return op.client() + ' ' + op.kind() + ' ' + op.code() + (detail.isEmpty() ? "" : " \"" + detail + '"')
               + (op.degraded() ? " (degraded)" : "") + " in " + op.elapsedMs() + " ms";
    }

    private static Set<Status.Code> contractCodes() {
        final Set<Status.Code> codes = EnumSet.noneOf(Status.Code.class);
        for (Status.Code code : Status.Code.values()) {
            final ErrorCode mapped = ErrorMapping.errorCode(code, null);
            if (mapped != ErrorCode.ERROR_CODE_INTERNAL_ERROR && mapped != ErrorCode.ERROR_CODE_UNSPECIFIED) {
                codes.add(code);
            }
        }
        return codes;
    }
}
