package ai.sonia.evaos;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;

import ai.sonia.evaos.domain.Redaction;

/** The one masking rule: names that mark a secret, and secrets recognised inside any text. */
class RedactionTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            curl -H 'Authorization: Bearer abcdefghijklmnop' x | curl -H 'Authorization: [REDACTED]' x
            Cookie: sid=123; theme=dark                       | Cookie: [REDACTED]
            x-api-key:k-123                                   | x-api-key:[REDACTED]
            token Bearer abcdefghijklmnopqrstuv               | token Bearer [REDACTED]
            https://user:hunter2@example.com/p                | https://user:[REDACTED]@example.com/p
            https://e.com/a?access_token=t0k&page=2           | https://e.com/a?access_token=[REDACTED]&page=2
            --password=hunter2                                | --password=[REDACTED]
            {"client_secret":"abc","path":"*.log"}            | {"client_secret":"[REDACTED]","path":"*.log"}
            eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl  | [REDACTED]
            sonia_sk_abc_0123456789abcdef                     | [REDACTED]
            ls -la notes                                      | ls -la notes
            https://e.com/a?page=2&q=hello                    | https://e.com/a?page=2&q=hello
            sort --output=list.txt                            | sort --output=list.txt
            {"path":"*.log","content":"x"}                    | {"path":"*.log","content":"x"}
            a basic question                                  | a basic question
            """)
    void masksSecretsInsideText(String text, String masked) {
        assertThat(Redaction.text(text.strip())).isEqualTo(masked.strip());
    }

    @Test
    void masksFieldsNamedLikeSecretsAtAnyDepth() throws Exception {
        final Struct.Builder args = Struct.newBuilder();
        JsonFormat.parser().merge("""
                {"url":"https://e.com","headers":{"Authorization":"x","Accept":"text/plain","X-Api-Key":"k"},
                 "body":{"user":"a","password":"p","nested":[{"api_key":"k2","n":1}]},"author":"me"}""", args);
        final String shown = JsonFormat.printer().omittingInsignificantWhitespace().print(Redaction.struct(args.build()));
        assertThat(shown).contains("\"Authorization\":\"[REDACTED]\"", "\"X-Api-Key\":\"[REDACTED]\"",
                                   "\"password\":\"[REDACTED]\"", "\"api_key\":\"[REDACTED]\"",
                                   "\"Accept\":\"text/plain\"", "\"user\":\"a\"", "\"author\":\"me\"",
                                   "\"url\":\"https://e.com\"")
                         .doesNotContain("\"x\"", "\"k\"", "\"p\"", "k2");
    }
}
