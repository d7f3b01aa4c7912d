package ai.sonia.memory.domain;

/** A request the engine refuses: a bad field, a missing memory, or a state that forbids the change. */
public final class MemoryException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What went wrong, which decides the status the caller sees. */
    public enum Kind { INVALID_ARGUMENT, NOT_FOUND, CONFLICT }

    private final Kind kind;
    private final String subject;
    private final String resource;

    private MemoryException(Kind kind, String subject, String resource, String message) {
        super(message);
        this.kind = kind;
        this.subject = subject;
        this.resource = resource;
    }

    /** A bad request field, named as the client spelled it. */
    public static MemoryException invalid(String field, String description) {
        return new MemoryException(Kind.INVALID_ARGUMENT, field, "", description);
    }

    /** A memory that does not exist (or not in the caller's tenant). */
    public static MemoryException notFound(String name) {
        return new MemoryException(Kind.NOT_FOUND, name, "memory", "memory not found: " + name);
    }

    /** A backup that does not exist. */
    public static MemoryException backupNotFound(String id) {
        return new MemoryException(Kind.NOT_FOUND, id, "backup", "backup not found: " + id);
    }

    /** A memory whose state forbids the change. */
    public static MemoryException conflict(String name, String why) {
        return new MemoryException(Kind.CONFLICT, name, "", name + ": " + why);
    }

    public Kind kind() {
        return kind;
    }

    /** What kind of resource was not found: "memory" or "backup". */
    public String resource() {
        return resource;
    }

    /** The field (for INVALID_ARGUMENT) or the resource's name. */
    public String subject() {
        return subject;
    }
}
