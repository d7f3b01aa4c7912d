package ai.sonia.openclaw.catalog;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;

import ai.sonia.openclaw.v1.Tool;
import ai.sonia.openclaw.v1.ToolHints;
import ai.sonia.openclaw.v1.ToolsProto;
import ai.sonia.options.v1.OptionsProto;
import ai.sonia.options.v1.ToolContract;

/**
 * The standard tools, read from the contract: every message of {@code tools.proto} that carries
 * {@code (sonia.options.v1.tool)}, with the JSON Schema generated from it. Sorted by name.
 */
public final class ToolCatalog {

    private final List<Tool> tools;
    private final Map<String, Tool> byName;

    private ToolCatalog(FileDescriptor file) {
        tools = file.getMessageTypes().stream()
                    .filter(m -> m.getOptions().hasExtension(OptionsProto.tool))
                    .map(ToolCatalog::toTool)
                    .sorted(Comparator.comparing(Tool::getName))
                    .toList();
        byName = tools.stream().collect(Collectors.toUnmodifiableMap(Tool::getName, Function.identity()));
    }

    /** The catalog of the standard tools of {@code sonia/openclaw/v1/tools.proto}. */
    public static ToolCatalog standard() {
        return new ToolCatalog(ToolsProto.getDescriptor());
    }

    /** Every tool, sorted by name. */
    public List<Tool> tools() {
        return tools;
    }

    /** One tool by its dotted name. */
    public Optional<Tool> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    private static Tool toTool(Descriptor message) {
        final ToolContract contract = message.getOptions().getExtension(OptionsProto.tool);
        return Tool.newBuilder()
                   .setName(contract.getName())
                   .setDescription(contract.getDescription())
                   .setRisk(contract.getRisk())
                   .setHints(ToolHints.newBuilder()
                                      .setReadOnly(contract.getReadOnly())
                                      .setDestructive(contract.getDestructive())
                                      .setIdempotent(contract.getIdempotent())
                                      .setOpenWorld(contract.getOpenWorld()))
                   .setInputSchema(JsonSchemaGenerator.schemaOf(message))
                   .setArgumentType(message.getFullName())
                   .build();
    }
}
