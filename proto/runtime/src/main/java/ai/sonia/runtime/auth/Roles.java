package ai.sonia.runtime.auth;

import java.util.Locale;

import ai.sonia.common.v1.Role;

/** Roles by their short names in tokens and configuration: "admin", "user". */
public final class Roles {

    /** The short name of a role. */
    public static String name(Role role) {
        return switch (role) {
            case ROLE_ADMIN -> "admin";
            case ROLE_USER -> "user";
            default -> throw new IllegalArgumentException("no role");
        };
    }

    /** The role of a short name; IllegalArgumentException for anything else. */
    public static Role parse(String name) {
        return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "admin" -> Role.ROLE_ADMIN;
            case "user" -> Role.ROLE_USER;
            default -> throw new IllegalArgumentException("unknown role: " + name);
        };
    }

    private Roles() {}
}
