package ai.sonia.evaos.domain;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;

import ai.sonia.evaos.v1.Approval;

/**
 * The one rule for what of an approval's arguments a person may read: secrets are replaced by
 * {@value #MASK} wherever an approval leaves EVA-OS (get, list, decide, the watch stream and so the
 * gateway's WebSocket). The stored arguments and the action hash stay exact, so what runs is still exactly
 * what was approved; only what is shown is masked.
 *
 * <p>Masked are: the whole value of any field whose name, lower-cased without {@code -} and {@code _},
 * contains one of {@link #SECRET_NAMES} (so the headers {@code Authorization}, {@code Cookie},
 * {@code X-Api-Key} and fields such as {@code token}, {@code password}, {@code client_secret},
 * {@code api_key}); and, inside any string, the secret part of a header line ({@code Authorization: ...}),
 * a credential scheme ({@code Bearer ...}, {@code Basic ...}), a JWT, a Sonia API key, a URL's password and
 * URL query parameters or {@code --options} named like a secret.
 */
public final class Redaction {

    /** What a secret is replaced with. */
    public static final String MASK = "[REDACTED]";

    /** Parts of a field name that mark its value as secret. */
    static final List<String> SECRET_NAMES = List.of(
            "authorization", "cookie", "apikey", "token", "password", "passwd", "secret", "privatekey",
            "credential", "signature");

    /**
     * Masks inside text. Group 1 of each pattern is kept and the rest of the match masked; a rule with a
     * named group 2 masks only when that name is a secret one ({@link #secretName}); {@code needs} is a
     * character the text must contain for the rule to apply at all (a cheap test before the regex).
     */
    private record Rule(Pattern pattern, boolean named, String needs) {}

    private static final List<Rule> SECRET_TEXT = List.of(
            // Header lines, as in curl -H "Authorization: Bearer x".
            new Rule(Pattern.compile("(?i)(\\b(?:proxy-authorization|authorization|set-cookie|cookie|x-api-key"
                                     + "|x-auth-token)\\s*:\\s*)[^\\r\\n\"']+"), false, ":"),
            // Credential schemes anywhere: "Bearer x", "Basic x".
            new Rule(Pattern.compile("(?i)(\\b(?:bearer|basic)\\s+)[A-Za-z0-9._~+/=-]{12,}"), false, ""),
            // URL user info: https://user:password@host.
            new Rule(Pattern.compile("(?i)([a-z][a-z0-9+.-]*://[^/\\s:@\"]*:)[^/\\s@\"]+(?=@)"), false, "@"),
            // Query parameters and options named like a secret: ?access_token=x, --password=x.
            new Rule(Pattern.compile("((?:[?&;]|(?<![A-Za-z0-9])--?)([A-Za-z0-9_-]+)=)[^&#\\s\"]+"), true, "="),
            // JSON text (a pattern over canonical arguments): "password":"x".
            new Rule(Pattern.compile("(\"([A-Za-z0-9_-]+)\":\")(?:[^\"\\\\]|\\\\.)*(?=\")"), true, "\":"),
            // Bare tokens: JWTs, Sonia API keys, common provider keys.
            new Rule(Pattern.compile("()\\beyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]*"), false, "eyJ"),
            new Rule(Pattern.compile("()\\b(?:sonia_sk_|sk-|ghp_|gho_|github_pat_|xox[abpr]-|AKIA)[A-Za-z0-9_-]{8,}"),
                     false, ""));

    /** The approval as a person may see it: its arguments, pattern and reason with secrets masked. */
    public static Approval approval(Approval approval) {
        return approval.toBuilder().setArguments(struct(approval.getArguments()))
                       .setPattern(text(approval.getPattern())).setReason(text(approval.getReason())).build();
    }

    /** Arguments with every secret masked. */
    public static Struct struct(Struct struct) {
        final Struct.Builder out = Struct.newBuilder();
        for (Map.Entry<String, Value> e : struct.getFieldsMap().entrySet()) {
            out.putFields(e.getKey(), secretName(e.getKey()) ? Value.newBuilder().setStringValue(MASK).build()
                                                             : value(e.getValue()));
        }
        return out.build();
    }

    /** A text with every secret it carries masked. */
    public static String text(String text) {
        String out = text;
        for (Rule rule : SECRET_TEXT) {
            if (!out.contains(rule.needs())) {
                continue;
            }
            out = rule.pattern().matcher(out).replaceAll(m -> Matcher.quoteReplacement(
                    rule.named() && !secretName(m.group(2)) ? m.group() : m.group(1) + MASK));
        }
        return out;
    }

    static boolean secretName(String name) {
        final String normalized = name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        return SECRET_NAMES.stream().anyMatch(normalized::contains);
    }

    private static Value value(Value v) {
        return switch (v.getKindCase()) {
            case STRUCT_VALUE -> Value.newBuilder().setStructValue(struct(v.getStructValue())).build();
            case LIST_VALUE -> {
                final ListValue.Builder list = ListValue.newBuilder();
                v.getListValue().getValuesList().forEach(item -> list.addValues(value(item)));
                yield Value.newBuilder().setListValue(list).build();
            }
            case STRING_VALUE -> Value.newBuilder().setStringValue(text(v.getStringValue())).build();
            default -> v;
        };
    }

    private Redaction() {}
}
