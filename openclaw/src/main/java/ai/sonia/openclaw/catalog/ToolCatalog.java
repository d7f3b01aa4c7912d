package ai.sonia.openclaw.catalog;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;

import ai.sonia.codegen.JsonSchemas;
import ai.sonia.openclaw.v1.Tool;
import ai.sonia.openclaw.v1.ToolHints;
import ai.sonia.options.v1.ToolContract;

/**
 * The standard tools, read from the contract (codegen's {@link ai.sonia.codegen.ToolCatalog}: every
 * message of {@code tools.proto} that carries {@code (sonia.options.v1.tool)}), each with the JSON Schema
 * that codegen generates from it — the same bytes as in {@code docs/contract/tools/}. Sorted by name.
 */
public final class ToolCatalog {

    private final List<Tool> tools;
    private final Map<String, Tool> byName;

    private ToolCatalog() {
        tools = ai.sonia.codegen.ToolCatalog.tools().stream().map(ToolCatalog::toTool).toList();
        byName = tools.stream().collect(Collectors.toUnmodifiableMap(Tool::getName, Function.identity()));
    }

    /** The catalog of the standard tools of {@code sonia/openclaw/v1/tools.proto}. */
    public static ToolCatalog standard() {
        return new ToolCatalog();
    }

    /** Every tool, sorted by name. */
    public List<Tool> tools() {
        return tools;
    }

    /** One tool by its dotted name. */
    public Optional<Tool> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    private static Tool toTool(ai.sonia.codegen.ToolCatalog.Entry entry) {
        final ToolContract contract = entry.contract();
        return Tool.newBuilder()
                   .setName(contract.getName())
                   .setDescription(contract.getDescription())
                   .setRisk(contract.getRisk())
                   .setHints(ToolHints.newBuilder()
                                      .setReadOnly(contract.getReadOnly())
                                      .setDestructive(contract.getDestructive())
                                      .setIdempotent(contract.getIdempotent())
                                      .setOpenWorld(contract.getOpenWorld()))
                   .setInputSchema(struct(JsonSchemas.toolParameters(entry.arguments()).toString()))
                   .setArgumentType(entry.arguments().getFullName())
                   .build();
    }

    private static Struct struct(String json) {
        final Struct.Builder struct = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(json, struct);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("generated schema is not JSON", e);
        }
        return struct.build();
    }
}
