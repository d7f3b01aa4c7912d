package ai.sonia.openclaw.tools;

import java.util.Map;
import java.util.function.DoubleUnaryOperator;

import ai.sonia.runtime.errors.DomainException;


/**
 * {@code calc.eval}: a recursive-descent parser and evaluator for arithmetic, no script engine.
 * Grammar: {@code expr = term (('+'|'-') term)*}, {@code term = unary (('*'|'/'|'%') unary)*},
 * {@code unary = ('+'|'-') unary | power}, {@code power = atom ('^' unary)?} (right associative),
 * {@code atom = number | name | name '(' expr ')' | '(' expr ')'}.
 */
public final class Calculator {

    private static final int MAX_DEPTH = 64;
    private static final Map<String, Double> CONSTANTS = Map.of("pi", Math.PI, "e", Math.E);
    private static final Map<String, DoubleUnaryOperator> FUNCTIONS = Map.ofEntries(
            Map.entry("sqrt", Math::sqrt), Map.entry("ln", Math::log), Map.entry("log", Math::log10),
            Map.entry("exp", Math::exp), Map.entry("abs", Math::abs), Map.entry("sin", Math::sin),
            Map.entry("cos", Math::cos), Map.entry("tan", Math::tan), Map.entry("asin", Math::asin),
            Map.entry("acos", Math::acos), Map.entry("atan", Math::atan), Map.entry("floor", Math::floor),
            Map.entry("ceil", Math::ceil), Map.entry("round", x -> (double) Math.round(x)));

    private final String text;
    private int pos;
    private int depth;

    private Calculator(String text) {
        this.text = text;
    }

    /** Evaluates {@code expression}; throws {@link DomainException} on a syntax or domain error. */
    public static double evaluate(String expression) {
        final Calculator parser = new Calculator(expression);
        final double value = parser.expr();
        parser.skipSpaces();
        if (parser.pos < expression.length()) {
            throw parser.error("unexpected '" + expression.charAt(parser.pos) + "'");
        }
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            throw DomainException.invalidArgument("arguments.expression", "result is not a finite number");
        }
        return value;
    }

    private double expr() {
        enter();
        double value = term();
        while (true) {
            if (eat('+')) {
                value += term();
            } else if (eat('-')) {
                value -= term();
            } else {
                depth--;
                return value;
            }
        }
    }

    private double term() {
        double value = unary();
        while (true) {
            if (eat('*')) {
                value *= unary();
            } else if (eat('/')) {
                final double divisor = unary();
                if (divisor == 0) {
                    throw error("division by zero");
                }
                value /= divisor;
            } else if (eat('%')) {
                final double divisor = unary();
                if (divisor == 0) {
                    throw error("modulo by zero");
                }
                value %= divisor;
            } else {
                return value;
            }
        }
    }

    private double unary() {
        enter();
        final double value;
        if (eat('-')) {
            value = -unary();
        } else if (eat('+')) {
            value = unary();
        } else {
            value = power();
        }
        depth--;
        return value;
    }

    private double power() {
        final double base = atom();
        return eat('^') ? Math.pow(base, unary()) : base;
    }

    private double atom() {
        skipSpaces();
        if (eat('(')) {
            final double value = expr();
            expect(')');
            return value;
        }
        final int start = pos;
        if (pos < text.length() && (Character.isDigit(text.charAt(pos)) || text.charAt(pos) == '.')) {
            while (pos < text.length() && (Character.isDigit(text.charAt(pos)) || text.charAt(pos) == '.')) {
                pos++;
            }
            if (pos < text.length() && (text.charAt(pos) == 'e' || text.charAt(pos) == 'E')) {
                final int mark = pos++;
                if (pos < text.length() && (text.charAt(pos) == '+' || text.charAt(pos) == '-')) {
                    pos++;
                }
                if (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                    while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
                        pos++;
                    }
                } else {
                    pos = mark;
                }
            }
            try {
                return Double.parseDouble(text.substring(start, pos));
            } catch (NumberFormatException e) {
                throw error("bad number '" + text.substring(start, pos) + "'");
            }
        }
        while (pos < text.length() && Character.isLetter(text.charAt(pos))) {
            pos++;
        }
        if (start == pos) {
            throw error(pos < text.length() ? "unexpected '" + text.charAt(pos) + "'" : "unexpected end");
        }
        final String name = text.substring(start, pos);
        final DoubleUnaryOperator function = FUNCTIONS.get(name);
        if (function != null) {
            expect('(');
            final double argument = expr();
            expect(')');
            return function.applyAsDouble(argument);
        }
        final Double constant = CONSTANTS.get(name);
        if (constant == null) {
            throw error("unknown name '" + name + "'");
        }
        return constant;
    }

    private void enter() {
        if (++depth > MAX_DEPTH) {
            throw error("nested too deeply");
        }
    }

    private boolean eat(char c) {
        skipSpaces();
        if (pos < text.length() && text.charAt(pos) == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!eat(c)) {
            throw error("expected '" + c + "'");
        }
    }

    private void skipSpaces() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private DomainException error(String what) {
        return DomainException.invalidArgument("arguments.expression", what + " at position " + pos);
    }
}
