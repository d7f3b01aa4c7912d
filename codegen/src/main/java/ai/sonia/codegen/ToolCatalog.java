package ai.sonia.codegen;

import java.util.Comparator;
import java.util.List;

import com.google.protobuf.Descriptors.Descriptor;

import ai.sonia.openclaw.v1.ToolsProto;
import ai.sonia.options.v1.OptionsProto;
import ai.sonia.options.v1.ToolContract;

/** The standard tools: every message of the contract that carries {@code (sonia.options.v1.tool)}. */
public final class ToolCatalog {

    /** A tool's contract and the message of its arguments. */
    public record Entry(ToolContract contract, Descriptor arguments) {}

    /** Every standard tool, by name. */
    public static List<Entry> tools() {
        return ToolsProto.getDescriptor().getMessageTypes().stream()
                         .filter(m -> m.getOptions().hasExtension(OptionsProto.tool))
                         .map(m -> new Entry(m.getOptions().getExtension(OptionsProto.tool), m))
                         .sorted(Comparator.comparing(e -> e.contract().getName()))
                         .toList();
    }

    private ToolCatalog() {}
}
