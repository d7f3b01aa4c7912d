package ai.sonia.evaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;

import ai.sonia.evaos.domain.CanonicalJson;
import ai.sonia.evaos.domain.Classification;
import ai.sonia.evaos.domain.RiskClassifier;

/** The determinism table: each action, its risk and the rule that decided, asked many times. */
class RiskClassifierTest {

    private static final RiskClassifier classifier = new RiskClassifier();

    @ParameterizedTest(name = "{0} {1} in ''{2}'' -> {3} by {4}")
    @CsvSource(delimiter = '|', quoteCharacter = '^', textBlock = """
            time.now     | {}                                              |       | RISK_LEVEL_LOW         | time.now/default-risk
            calc.eval    | {"expression":"1+1"}                            |       | RISK_LEVEL_LOW         | calc.eval/default-risk
            file.read    | {"path":"notes/a.txt"}                          |       | RISK_LEVEL_LOW         | file.read/default-risk
            file.read    | {"path":"../etc/passwd"}                        |       | RISK_LEVEL_CRITICAL    | path/outside-workspace
            file.read    | {"path":"/etc/passwd"}                          |       | RISK_LEVEL_CRITICAL    | path/outside-workspace
            file.read    | {"path":"a/../../x"}                            |       | RISK_LEVEL_CRITICAL    | path/outside-workspace
            file.read    | {"path":"~/.ssh/id_rsa"}                        |       | RISK_LEVEL_CRITICAL    | path/outside-workspace
            file.list    | {}                                              | ..    | RISK_LEVEL_CRITICAL    | path/outside-workspace
            file.write   | {"path":"a.txt","content":"x"}                  |       | RISK_LEVEL_MEDIUM      | file.write/default-risk
            file.write   | {"path":"/tmp/x","content":"x"}                 |       | RISK_LEVEL_CRITICAL    | path/outside-workspace
            file.write   | {"path":".git/hooks/pre-commit","content":"x"}  |       | RISK_LEVEL_HIGH        | file.write/executable-config
            file.delete  | {"path":"old.txt"}                              |       | RISK_LEVEL_HIGH        | file.delete/default-risk
            file.delete  | {"path":".","recursive":true}                   |       | RISK_LEVEL_CRITICAL    | file.delete/workspace-root
            shell.run    | {"argv":["ls","-l"]}                            |       | RISK_LEVEL_LOW         | shell.run/read-only-program
            shell.run    | {"argv":["mkdir","build"]}                      |       | RISK_LEVEL_HIGH        | shell.run/default-risk
            shell.run    | {"argv":["rm","-rf","/"]}                       |       | RISK_LEVEL_CRITICAL    | shell.run/destructive-pattern
            shell.run    | {"argv":["rm","-rf","."]}                       |       | RISK_LEVEL_CRITICAL    | shell.run/rm-root
            shell.run    | {"argv":["sh","-c","rm -rf / --no-preserve-root"]} |    | RISK_LEVEL_CRITICAL    | shell.run/destructive-pattern
            shell.run    | {"argv":["sh","-c",":(){ :&:& };:"]}            |       | RISK_LEVEL_CRITICAL    | shell.run/destructive-pattern
            shell.run    | {"argv":["sh","-c","echo hi"]}                  |       | RISK_LEVEL_HIGH        | shell.run/interpreter
            shell.run    | {"argv":["echo","a; rm -rf ~"]}                 |       | RISK_LEVEL_CRITICAL    | shell.run/destructive-pattern
            shell.run    | {"argv":["echo","$(id)"]}                       |       | RISK_LEVEL_CRITICAL    | shell.run/metacharacters
            shell.run    | {"argv":["echo","`id`"]}                        |       | RISK_LEVEL_CRITICAL    | shell.run/metacharacters
            shell.run    | {"argv":["cat","{a,b}"]}                        |       | RISK_LEVEL_CRITICAL    | shell.run/metacharacters
            shell.run    | {"argv":["cat","<(id)"]}                        |       | RISK_LEVEL_CRITICAL    | shell.run/metacharacters
            shell.run    | {"argv":["ls","a;id"]}                          |       | RISK_LEVEL_CRITICAL    | shell.run/metacharacters
            shell.run    | {"argv":["find",".","-exec","id",";"]}          |       | RISK_LEVEL_CRITICAL    | shell.run/exec-option
            shell.run    | {"argv":["find",".","-exec","id","+"]}          |       | RISK_LEVEL_CRITICAL    | shell.run/exec-option
            shell.run    | {"argv":["tar","--to-comm=id","-xf","a.tar"]}   |       | RISK_LEVEL_CRITICAL    | shell.run/exec-option
            shell.run    | {"argv":["sort","--compress-prog=sh","x"]}      |       | RISK_LEVEL_CRITICAL    | shell.run/exec-option
            shell.run    | {"argv":["xx","--ex"]}                          |       | RISK_LEVEL_CRITICAL    | shell.run/exec-option
            shell.run    | {"argv":["LD_PRELOAD=/tmp/x.so","ls"]}          |       | RISK_LEVEL_CRITICAL    | shell.run/environment-injection
            shell.run    | {"argv":["/bin/ls"]}                            |       | RISK_LEVEL_CRITICAL    | shell.run/program-path
            shell.run    | {"argv":["sudo","ls"]}                          |       | RISK_LEVEL_CRITICAL    | shell.run/forbidden-program
            shell.run    | {"argv":["cat","/etc/shadow"]}                  |       | RISK_LEVEL_CRITICAL    | shell.run/path-outside-workspace
            shell.run    | {"argv":[]}                                     |       | RISK_LEVEL_CRITICAL    | shell.run/empty-argv
            http.fetch   | {"url":"http://localhost:8080/x"}               |       | RISK_LEVEL_MEDIUM      | http.fetch/default-risk
            http.fetch   | {"url":"file:///etc/passwd"}                    |       | RISK_LEVEL_CRITICAL    | http.fetch/scheme
            http.fetch   | {"url":"http://0x7f.1/"}                        |       | RISK_LEVEL_CRITICAL    | http.fetch/obfuscated-host
            http.fetch   | {"url":"http://2130706433/"}                    |       | RISK_LEVEL_CRITICAL    | http.fetch/obfuscated-host
            http.fetch   | {"url":"http://[::ffff:127.0.0.1]/"}            |       | RISK_LEVEL_CRITICAL    | http.fetch/obfuscated-host
            http.fetch   | {"url":"http://evil.com@localhost/"}            |       | RISK_LEVEL_CRITICAL    | http.fetch/user-info
            http.fetch   | {"url":"http://169.254.169.254/latest"}         |       | RISK_LEVEL_CRITICAL    | http.fetch/cloud-metadata
            memory.store | {"text":"x"}                                    |       | RISK_LEVEL_LOW         | memory.store/default-risk
            rm.everything| {}                                              |       | RISK_LEVEL_UNSPECIFIED | default/unknown-tool
            """)
    void sameActionSameRiskSameRuleEveryTime(String tool, String json, String cwd, String risk, String rule)
            throws Exception {
        final Struct.Builder arguments = Struct.newBuilder();
        JsonFormat.parser().merge(json, arguments);
        final List<Classification> answers = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            answers.add(new RiskClassifier().classify(tool, arguments.build(), cwd == null ? "" : cwd));
        }
        assertThat(answers).allSatisfy(c -> {
            assertThat(c.risk().name()).isEqualTo(risk);
            assertThat(c.rule()).isEqualTo(rule);
        });
        assertThat(answers.stream().map(Classification::reason).distinct()).hasSize(1);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {"b":1,"a":[1.0,"x"]}       | {"a":[1,"x"],"b":1.0}
            {"p":"a","q":{"z":1,"y":2}} | {"q":{"y":2,"z":1.00},"p":"a"}
            """)
    void equalActionsHashEquallyWhateverTheirSpelling(String left, String right) throws Exception {
        final Struct.Builder a = Struct.newBuilder();
        final Struct.Builder b = Struct.newBuilder();
        JsonFormat.parser().merge(left, a);
        JsonFormat.parser().merge(right, b);
        assertThat(CanonicalJson.actionHash("acme", "t", a.build(), "."))
                .isEqualTo(CanonicalJson.actionHash("acme", "t", b.build(), ""))
                .hasSize(64);
        assertThat(CanonicalJson.actionHash("acme", "t", a.build(), "sub")).isNotEqualTo(
                CanonicalJson.actionHash("acme", "t", b.build(), ""));
        // The same action of another tenant is another action: its approvals cannot bind this one.
        assertThat(CanonicalJson.actionHash("other", "t", a.build(), "")).isNotEqualTo(
                CanonicalJson.actionHash("acme", "t", a.build(), ""));
    }

    @org.junit.jupiter.api.Test
    void unknownToolIsDenied() {
        assertThat(classifier.classify("nope", Struct.getDefaultInstance(), "").verdict().name())
                .isEqualTo("VERDICT_DENY");
    }
}
