package ai.sonia.gateway.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import ai.sonia.common.v1.Role;
import ai.sonia.runtime.StackConfig;
import ai.sonia.runtime.auth.Secrets;
import ai.sonia.runtime.errors.DomainException;

/**
 * On the first start (no user at all), creates the user "admin" (role admin, tenant "default") so the stack
 * is closed yet usable. Its password comes from {@code SONIA_ADMIN_PASSWORD}, or is random and written to
 * {@code $SONIA_HOME/secrets/admin-password} (owner-only); one log line says where, never what. Replicas of the
 * gateway starting at once on one PostgreSQL all see no user: one creates the admin, the others find it made
 * and start all the same, leaving the file (which they may share) to the one that made it.
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
        // Written beside the file before the user exists (a crash in between leaves the password readable in
        // it), and moved into place only by the replica whose admin it is.
        final Path pending = generated ? write(file, password) : null;
        try {
            accounts.create(TENANT, USERNAME, password, "Administrator", Role.ROLE_ADMIN, generated);
        } catch (DomainException e) {
            deleteQuietly(pending);
            if (e.isAlreadyExists() && accounts.store.countUsers() > 0) {
                logger.info("First start: another replica created user 'admin'");
                return;
            }
            throw e;
        }
        if (generated) {
            moveInPlace(pending, file);
            logger.info("First start: created user 'admin'; its password is in {} (owner-only); "
                        + "log in and change it, then delete the file", file);
        } else {
            logger.info("First start: created user 'admin' with the password from SONIA_ADMIN_PASSWORD");
        }
    }

    /** Writes {@code password} to a new owner-only file beside {@code file}, and returns it. */
    private static Path write(Path file, String password) {
        try {
            Secrets.createOwnerOnlyDirectory(file.getParent());
            final Path pending = Files.createTempFile(file.getParent(), file.getFileName() + ".", ".pending",
                                                      PosixFilePermissions.asFileAttribute(
                                                              PosixFilePermissions.fromString("rw-------")));
            Files.writeString(pending, password + '\n');
            return pending;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** Replaces {@code file} (a stale one from an earlier home holds a password that no longer works). */
    private static void moveInPlace(Path pending, Path file) {
        try {
            Files.move(pending, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + " (the password is in " + pending + ")", e);
        }
    }

    private static void deleteQuietly(Path pending) {
        if (pending != null) {
            try {
                Files.deleteIfExists(pending);
            } catch (IOException ignored) {
                // an owner-only file holding a password that opens nothing
            }
        }
    }

    private FirstAdmin() {}
}
