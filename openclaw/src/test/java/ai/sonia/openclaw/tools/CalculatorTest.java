package ai.sonia.openclaw.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import ai.sonia.runtime.errors.DomainException;


class CalculatorTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            2 * (3 + 4) ^ 2     | 98
            1 + 2 * 3           | 7
            -2 ^ 2              | -4
            2 ^ 3 ^ 2           | 512
            10 % 4              | 2
            sqrt(16) + abs(-3)  | 7
            1.5e3 / 3           | 500
            round(pi * 100)     | 314
            --1                 | 1
            ln(e)               | 1
            """)
    void evaluates(String expression, double expected) {
        assertThat(Calculator.evaluate(expression)).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-9));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1 +", "(1", "1 / 0", "java.lang.Runtime", "exec(1)", "2 ** 3", "1e999 * 10",
                            "sqrt(-1)", "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))"
                            + "))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))"})
    void rejectsWhatIsNotArithmetic(String expression) {
        assertThatThrownBy(() -> Calculator.evaluate(expression))
                .isInstanceOfSatisfying(DomainException.class,
                                        e -> assertThat(e.field()).isEqualTo("arguments.expression"));
    }
}
