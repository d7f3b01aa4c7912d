package ai.sonia.openclaw.tools;

import com.google.protobuf.Struct;

import com.linecorp.armeria.common.annotation.Nullable;

import ai.sonia.openclaw.sandbox.ProcessResult;

/** What a tool produced: structured output, and for programs the process result. */
public record ToolOutcome(Struct output, @Nullable ProcessResult process) {

    public static ToolOutcome of(Struct output) {
        return new ToolOutcome(output, null);
    }
}
