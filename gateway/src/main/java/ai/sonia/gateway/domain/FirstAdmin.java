package ai.sonia.gateway.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.common.v1.Role;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Secrets;

/**
 * On the first start (no user at all), creates the user "admin" (role admin, tenant "default") so the stack
 * is closed yet usable. Its password comes from {@code SONIA_ADMIN_PASSWORD}, or is random and written to
 * {@code $SONIA_HOME/secrets/admin-password} (owner-only); one log line says where, never what.
 */
public final class FirstAdmin {

    private static final Logger logger = LoggerFactory.getLogger(FirstAdmin.class);
    static final String USERNAME = "admin";
    static final String TENANT = "default";

    /** Creates the first admin when there is no user yet. */
    public static void ensure(Accounts accounts, StackConfig config) {
        if (accounts.store.countUsers() > 0) {
            return;
        }
        final String fromEnv = config.env("SONIA_ADMIN_PASSWORD");
        final boolean generated = fromEnv == null || fromEnv.isEmpty();
        final String password = generated ? Tokens.random(24) : fromEnv;
        final Path file = Secrets.directory(config).resolve("admin-password");
        if (generated) {
            write(file, password);
        }
        accounts.create(TENANT, USERNAME, password, "Administrator", Role.ROLE_ADMIN, generated);
        if (generated) {
            logger.info("First start: created user 'admin'; its password is in {} (owner-only); "
                        + "log in and change it, then delete the file", file);
        } else {
            logger.info("First start: created user 'admin' with the password from SONIA_ADMIN_PASSWORD");
        }
    }

    private static void write(Path file, String password) {
        try {
            Secrets.createOwnerOnlyDirectory(file.getParent());
            Files.deleteIfExists(file); // a stale file from an earlier home would hold a password that no longer works
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, password + '\n', StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private FirstAdmin() {}
}
