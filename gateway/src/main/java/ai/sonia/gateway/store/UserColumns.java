package ai.sonia.gateway.store;

import java.sql.ResultSet;
import java.sql.SQLException;

import ai.sonia.gateway.domain.AccountStore.UserRow;
import ai.sonia.runtime.auth.Roles;

/** The users table's columns as both engines write and read them (only the conflict clause differs). */
final class UserColumns {

    /** {@code users(...) VALUES (...)}, the parameters in the order of {@link #values}. */
    static final String INSERT = "users(id, tenant, username, display_name, password_hash, role, create_ms, disabled,"
                                 + " must_change_password) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private UserColumns() {}

    static Object[] values(UserRow user) {
        return new Object[] {user.id(), user.tenant(), user.username(), user.displayName(), user.passwordHash(),
                             Roles.name(user.role()), user.createMs(), user.disabled() ? 1 : 0,
                             user.mustChangePassword() ? 1 : 0};
    }

    static UserRow read(ResultSet rs) throws SQLException {
        return new UserRow(rs.getString("id"), rs.getString("tenant"), rs.getString("username"),
                           rs.getString("display_name"), rs.getString("password_hash"),
                           Roles.parse(rs.getString("role")), rs.getLong("create_ms"), rs.getInt("disabled") != 0,
                           rs.getInt("must_change_password") != 0);
    }
}
