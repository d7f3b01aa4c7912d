package ai.sonia.openclaw.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import ai.sonia.runtime.errors.DomainException;


/** argv policy bypass attempts; each argv is written space-separated with '_' for a space inside an argument. */
class CommandPolicyTest {

    private static final CommandPolicy policy = CommandPolicy.defaults();

    static List<String> argv(String spec) {
        return Arrays.stream(spec.split(" ")).map(s -> s.replace('_', ' ')).toList();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiterString = " => ", quoteCharacter = '^', textBlock = """
            find . -exec id + => arguments.argv[2]
            find . -execdir id + => arguments.argv[2]
            sort --compress-program=sh a => arguments.argv[1]
            sort --compress-prog=sh a => arguments.argv[1]
            sort --comp=sh a => arguments.argv[1]
            tar --to-comm=id -xf a.tar => arguments.argv[1]
            tar -xIsh -f a.tar => arguments.argv[1]
            tar --checkpoint-act=exec=id => arguments.argv[1]
            echo a;id => arguments.argv[1]
            echo $(id) => arguments.argv[1]
            echo `id` => arguments.argv[1]
            cat {a,b} => arguments.argv[1]
            cat <(id) => arguments.argv[1]
            echo a|id => arguments.argv[1]
            echo a&&id => arguments.argv[1]
            echo >x => arguments.argv[1]
            cat /etc/passwd => arguments.argv[1]
            cat ../../etc/passwd => arguments.argv[1]
            cat ~/.ssh/id_rsa => arguments.argv[1]
            grep --file=/etc/shadow x => arguments.argv[1]
            sh -c id => arguments.argv[0]
            bash -c id => arguments.argv[0]
            env LD_PRELOAD=x ls => arguments.argv[0]
            xargs rm => arguments.argv[0]
            LD_PRELOAD=/tmp/x.so ls => arguments.argv[0]
            /bin/ls => arguments.argv[0]
            ./ls => arguments.argv[0]
            python3 -c 1 => arguments.argv[0]
            curl http://x => arguments.argv[0]
            rm --no-preserve-root -rf a => arguments.argv[1]
            date --set=2020-01-01 => arguments.argv[1]
            date -s 2020 => arguments.argv[1]
            sort -o out.txt a.txt => arguments.argv[1]
            sort --output=out.txt a.txt => arguments.argv[1]
            sort -zo list.txt => arguments.argv[1]
            sort --files0-from=list.txt => arguments.argv[1]
            wc --files0-from=list.txt => arguments.argv[1]
            du --files0-from=list.txt => arguments.argv[1]
            sha256sum --files0-from=list.txt => arguments.argv[1]
            sha256sum -c sums.txt => arguments.argv[1]
            uniq in.txt out.txt => arguments.argv[2]
            grep -R needle . => arguments.argv[1]
            grep --dereference-recursive needle . => arguments.argv[1]
            ls -L planted => arguments.argv[1]
            find -L . => arguments.argv[1]
            find . -follow => arguments.argv[2]
            find . -delete => arguments.argv[2]
            find . -fprint out => arguments.argv[2]
            find . -files0-from list => arguments.argv[2]
            du -L . => arguments.argv[1]
            tar -chf a.tar planted => arguments.argv[1]
            tar -xPf a.tar => arguments.argv[1]
            tar -cf a.tar -T list.txt => arguments.argv[3]
            tar xf a.tar => arguments.argv[1]
            tar -xf/etc/passwd => arguments.argv[1]
            tar -x -C/etc -f a.tar => arguments.argv[2]
            cp -s a b => arguments.argv[1]
            cp -l a b => arguments.argv[1]
            cp -L a b => arguments.argv[1]
            tail -f log => arguments.argv[1]
            head -5 a => arguments.argv[1]
            sort --outp=x a => arguments.argv[1]
            """)
    void bypassAttemptsAreRefusedNamingTheArgument(String spec, String field) {
        assertThatThrownBy(() -> policy.check(argv(spec)))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.field()).isEqualTo(field));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ls -la", "grep -rn needle .", "find . -name *.md", "head -c 100 /dev/zero",
                            "echo hello_world", "sort -u a.txt", "tar -xzf a.tar.gz", "date -u"})
    void ordinaryCommandsPass(String spec) {
        assertThatCode(() -> policy.check(argv(spec))).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sh -c echo_a;echo_b", "bash -c echo_$(id)"})
    void aShellRunsOnlyWhenThePolicyAllowsOne(String spec) {
        assertThatThrownBy(() -> policy.check(argv(spec))).isInstanceOf(DomainException.class);
        final CommandPolicy withShell = new CommandPolicy(CommandPolicy.DEFAULT_EXECUTABLES,
                                                          CommandPolicy.DEFAULT_DENIED_OPTIONS, true);
        assertThatCode(() -> withShell.check(argv(spec))).doesNotThrowAnyException();
    }
}
