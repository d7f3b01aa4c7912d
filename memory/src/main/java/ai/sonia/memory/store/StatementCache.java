package ai.sonia.memory.store;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One SQLite reader connection that keeps the statements it prepares, one per SQL text, so a search does not
 * compile its ledger check again each time (SQLite's JDBC driver has no statement cache of its own). The code
 * that reads is unchanged: {@code prepareStatement(sql)} hands out the kept statement, and its {@code close()}
 * only clears the parameters for the next use. The statements close with the connection (the driver finalizes
 * a connection's statements when it closes). A connection is used by one thread at a time (the reader pool);
 * a statement still open when its SQL is prepared again gets a fresh one, not the kept one. At most {@link
 * #MAX_STATEMENTS} are kept, the least recently used closed first.
 */
final class StatementCache implements InvocationHandler {

    static final int MAX_STATEMENTS = 64;

    private final Connection connection;
    private final Map<String, Kept> kept = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Kept> eldest) {
            if (size() <= MAX_STATEMENTS) {
                return false;
            }
            if (!eldest.getValue().inUse) {
                closeQuietly(eldest.getValue().statement);
            }
            return true;
        }
    };

    private StatementCache(Connection connection) {
        this.connection = connection;
    }

    /** {@code connection}, keeping its prepared statements. */
    static Connection wrap(Connection connection) {
        return (Connection) Proxy.newProxyInstance(StatementCache.class.getClassLoader(),
                                                   new Class<?>[] {Connection.class},
                                                   new StatementCache(connection));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getName().equals("prepareStatement") && args.length == 1) {
            return prepare((String) args[0]);
        }
        return call(connection, method, args);
    }

    private PreparedStatement prepare(String sql) throws SQLException {
        Kept entry = kept.get(sql);
        if (entry == null) {
            entry = new Kept(connection.prepareStatement(sql));
            kept.put(sql, entry);
        } else if (entry.inUse) {
            return connection.prepareStatement(sql);
        }
        entry.inUse = true;
        return entry.proxy;
    }

    private static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static void closeQuietly(PreparedStatement statement) {
        try {
            statement.close();
        } catch (SQLException ignored) {
            // Its connection reports the fault on its next use.
        }
    }

    /** A kept statement and the handle given out for it, whose close returns it. */
    private final class Kept implements InvocationHandler {

        final PreparedStatement statement;
        final PreparedStatement proxy;
        boolean inUse;

        Kept(PreparedStatement statement) {
            this.statement = statement;
            proxy = (PreparedStatement) Proxy.newProxyInstance(StatementCache.class.getClassLoader(),
                                                               new Class<?>[] {PreparedStatement.class}, this);
        }

        @Override
        public Object invoke(Object self, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "close" -> {
                    release();
                    return null;
                }
                case "isClosed" -> {
                    return !inUse;
                }
                case "getConnection" -> {
                    return connection;
                }
                default -> {
                    return call(statement, method, args);
                }
            }
        }

        private void release() {
            if (!inUse) {
                return;
            }
            inUse = false;
            try {
                statement.clearParameters();
            } catch (SQLException e) {
                // Not reusable: drop it; the next prepare compiles a new one.
                kept.values().remove(this);
                closeQuietly(statement);
            }
        }
    }
}
