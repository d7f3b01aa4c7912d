package ai.sonia.runtime;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * One key of {@code config/sonia.json}, declared once as a component of a config record: its name is the
 * component's, its type the component's type, and this says what it means and what it is when absent. On a
 * record type, {@link #value()} describes the section the record is. {@link ConfigSchema#of} walks the records
 * into the schema that checks the file, sets keys from the environment and is rendered as {@code docs/config.md}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ ElementType.RECORD_COMPONENT, ElementType.TYPE })
public @interface ConfigKey {

    /** What the key (or the section) means, one sentence; on a component of a record type, empty takes the type's. */
    String value() default "";

    /**
     * The value when the key is absent, written as its environment variable would be (a list comma-separated);
     * applied before binding. Empty: no value (the component is null, or the record's code decides).
     */
    String def() default "";

    /** The default as the reference shows it, when the code decides it ("this machine's"); not applied. */
    String shown() default "";

    /**
     * A second environment variable for the key, kept from before the one rule ({@code SONIA_TLS}); read after
     * the rule's own, in the same place, parsed the same way.
     */
    String env() default "";

    /** What each value of a map or list of scalars means. */
    String element() default "";
}
