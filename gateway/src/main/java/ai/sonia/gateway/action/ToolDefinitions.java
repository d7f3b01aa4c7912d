package ai.sonia.gateway.action;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.sonia.codegen.JsonSchemas;
import ai.sonia.codegen.ToolCatalog;
import ai.sonia.common.v1.ToolDefinition;

/** The standard tools as a model sees them: name, description and the JSON Schema of the arguments. */
public final class ToolDefinitions {

    private static final ObjectMapper mapper = new ObjectMapper();

    private final List<ToolDefinition> definitions;
    private final Set<String> names;

    public ToolDefinitions() {
        definitions = ToolCatalog.tools().stream().map(ToolDefinitions::definition).toList();
        names = definitions.stream().map(ToolDefinition::getName).collect(Collectors.toUnmodifiableSet());
    }

    public List<ToolDefinition> all() {
        return definitions;
    }

    public boolean contains(String name) {
        return names.contains(name);
    }

    public Set<String> names() {
        return names;
    }

    private static ToolDefinition definition(ToolCatalog.Entry tool) {
        try {
            return ToolDefinition.newBuilder()
                                 .setName(tool.contract().getName())
                                 .setDescription(tool.contract().getDescription())
                                 .setParametersJsonSchema(mapper.writeValueAsString(
                                         JsonSchemas.toolParameters(tool.arguments())))
                                 .build();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
