package ai.sonia.memory.domain;

import static ai.sonia.runtime.errors.DomainException.invalidArgument;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.google.protobuf.MessageOrBuilder;

import ai.sonia.common.v1.Scope;
import ai.sonia.memory.v1.MemoryKind;

/** Validates request fields; each failure names the field as the client spelled it. */
final class RequestChecks {

    private static final Pattern SCOPE_ID = Pattern.compile("[A-Za-z0-9._:@+=-]{1,128}");
    private static final Pattern METADATA_KEY = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    private static final Pattern NAME = Pattern.compile("memories/[0-9a-f]{32}");
    private static final int MAX_METADATA_PAIRS = 32;
    private static final int MAX_METADATA_VALUE = 512;
    private static final int MAX_LABEL = 128;

    private RequestChecks() {}

    /** The ids a scope names are well formed; which of them the caller may use is {@link Access}'s call. */
    static void scope(String field, Scope scope) {
        noUnknownFields(field, scope);
        if (!scope.getTenant().isEmpty()) {
            scopeId(field + ".tenant", scope.getTenant());
        }
        if (!scope.getUser().isEmpty()) {
            scopeId(field + ".user", scope.getUser());
        }
        if (!scope.getSession().isEmpty()) {
            scopeId(field + ".session", scope.getSession());
        }
    }

    static void scopeId(String field, String value) {
        if (!SCOPE_ID.matcher(value).matches()) {
            throw invalidArgument(field, "must be 1-128 characters of letters, digits and ._:@+=-");
        }
    }

    /** Fields this build does not know (sent by a newer client, or crafted) are refused, not dropped. */
    static void noUnknownFields(String field, MessageOrBuilder message) {
        if (!message.getUnknownFields().asMap().isEmpty()) {
            throw invalidArgument(field, "unknown field number(s) " + message.getUnknownFields().asMap().keySet());
        }
    }

    static void metadata(String field, Map<String, String> metadata) {
        if (metadata.size() > MAX_METADATA_PAIRS) {
            throw invalidArgument(field, "at most " + MAX_METADATA_PAIRS + " pairs");
        }
        for (Map.Entry<String, String> pair : metadata.entrySet()) {
            if (!METADATA_KEY.matcher(pair.getKey()).matches()) {
                throw invalidArgument(field, "key '" + abbreviate(pair.getKey())
                                     + "' must be 1-64 characters of letters, digits and ._:-");
            }
            if (pair.getValue().length() > MAX_METADATA_VALUE) {
                throw invalidArgument(field + '.' + pair.getKey(), "at most " + MAX_METADATA_VALUE + " characters");
            }
        }
    }

    static void kinds(String field, List<MemoryKind> kinds) {
        for (MemoryKind kind : kinds) {
            kind(field, kind);
        }
    }

    static void kind(String field, MemoryKind kind) {
        if (kind == MemoryKind.UNRECOGNIZED) {
            throw invalidArgument(field, "unknown kind");
        }
    }

    static void text(String field, String text, int maxChars) {
        if (text.isBlank()) {
            throw invalidArgument(field, "required and not blank");
        }
        if (text.length() > maxChars) {
            throw invalidArgument(field, "too long: " + text.length() + " characters (expected: <= " + maxChars + ')');
        }
    }

    static void label(String field, String value) {
        if (value.length() > MAX_LABEL) {
            throw invalidArgument(field, "at most " + MAX_LABEL + " characters");
        }
    }

    static void name(String field, String name, boolean required) {
        if (name.isEmpty()) {
            if (required) {
                throw invalidArgument(field, "required, as memories/{id}");
            }
            return;
        }
        if (!NAME.matcher(name).matches()) {
            throw invalidArgument(field, "malformed name '" + abbreviate(name) + "' (expected: memories/{32 hex digits})");
        }
    }

    private static String abbreviate(String value) {
        return value.length() <= 40 ? value : value.substring(0, 40) + "...";
    }
}
