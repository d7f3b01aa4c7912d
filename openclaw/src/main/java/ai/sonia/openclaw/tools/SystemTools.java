package ai.sonia.openclaw.tools;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.sonia.openclaw.sandbox.ProcessRunner;
import ai.sonia.openclaw.v1.CalcEvalArguments;
import ai.sonia.openclaw.v1.ProcessListArguments;
import ai.sonia.openclaw.v1.SystemInfoArguments;
import ai.sonia.openclaw.v1.TimeNowArguments;
import ai.sonia.runtime.errors.DomainException;

/** time.now, system.info, process.list and calc.eval: read-only tools that run in the service itself. */
final class SystemTools {

    private final ProcessRunner runner;

    SystemTools(ProcessRunner runner) {
        this.runner = runner;
    }

    ToolOutcome timeNow(TimeNowArguments args, ToolCall call) {
        final ZoneId zone;
        try {
            zone = args.getTimeZone().isEmpty() ? ZoneId.of("UTC") : ZoneId.of(args.getTimeZone());
        } catch (DateTimeException e) {
            throw DomainException.invalidArgument("arguments.time_zone", "unknown time zone: " + args.getTimeZone());
        }
        final Instant now = Instant.now();
        final ZonedDateTime local = now.atZone(zone);
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("utc", DateTimeFormatter.ISO_INSTANT.format(now));
        out.put("local", DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(local));
        out.put("time_zone", zone.getId());
        out.put("epoch_ms", now.toEpochMilli());
        return ToolOutcome.of(Outputs.struct(out));
    }

    ToolOutcome systemInfo(SystemInfoArguments args, ToolCall call) {
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("os", System.getProperty("os.name") + ' ' + System.getProperty("os.version"));
        out.put("arch", System.getProperty("os.arch"));
        out.put("cpus", Runtime.getRuntime().availableProcessors());
        out.put("java", System.getProperty("java.version"));
        out.put("jvm_max_memory_bytes", Runtime.getRuntime().maxMemory());
        try {
            for (String line : Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:") || line.startsWith("MemAvailable:")) {
                    final String[] parts = line.split("\\s+");
                    out.put(parts[0].equals("MemTotal:") ? "memory_total_bytes" : "memory_available_bytes",
                            Long.parseLong(parts[1]) * 1024);
                }
            }
            final FileStore store = Files.getFileStore(call.workspace().root());
            out.put("workspace_disk_total_bytes", store.getTotalSpace());
            out.put("workspace_disk_free_bytes", store.getUsableSpace());
        } catch (IOException e) {
            out.put("error", "partial: " + e.getMessage());
        }
        return ToolOutcome.of(Outputs.struct(out));
    }

    /**
     * The caller's own sandboxed programs running now (this user of this tenant), never the host's
     * processes nor another user's: what the jail's pid namespace would show them.
     */
    ToolOutcome processList(ProcessListArguments args, ToolCall call) {
        final int max = args.getMaxEntries() > 0 ? args.getMaxEntries() : 100;
        final List<Object> processes = new ArrayList<>();
        for (ProcessRunner.Running running : runner.processes(call.owner())) {
            final List<ProcessHandle> handles = new ArrayList<>();
            handles.add(running.handle());
            running.handle().descendants().forEach(handles::add);
            final String command = String.join(" ", running.argv());
            if (!args.getNameContains().isEmpty() && !command.contains(args.getNameContains())) {
                continue;
            }
            if (processes.size() >= max) {
                break;
            }
            final Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("pid", running.handle().pid());
            entry.put("command", command.length() > 1000 ? command.substring(0, 1000) : command);
            entry.put("start_time", running.started().toString());
            entry.put("processes", handles.stream().filter(ProcessHandle::isAlive).count());
            processes.add(entry);
        }
        return ToolOutcome.of(Outputs.struct(Map.of("processes", processes)));
    }

    ToolOutcome calcEval(CalcEvalArguments args, ToolCall call) {
        final double value = Calculator.evaluate(args.getExpression());
        final Map<String, Object> out = new LinkedHashMap<>();
        out.put("expression", args.getExpression());
        out.put("value", value);
        return ToolOutcome.of(Outputs.struct(out));
    }
}
