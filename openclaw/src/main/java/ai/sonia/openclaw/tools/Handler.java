package ai.sonia.openclaw.tools;

import java.util.function.BiFunction;

import com.google.protobuf.Message;
import com.google.protobuf.Struct;

import ai.sonia.openclaw.catalog.ToolArguments;

/** One tool's implementation: its argument message and what it does with it. */
public record Handler<A extends Message>(A prototype, BiFunction<A, ToolCall, ToolOutcome> body) {

    /** Parses and validates JSON arguments into the tool's message. */
    public A parse(Struct arguments) {
        return ToolArguments.parse(arguments, prototype);
    }

    /** Runs with arguments that {@link #parse} returned. */
    @SuppressWarnings("unchecked")
    public ToolOutcome run(Message arguments, ToolCall call) {
        return body.apply((A) arguments, call);
    }
}
