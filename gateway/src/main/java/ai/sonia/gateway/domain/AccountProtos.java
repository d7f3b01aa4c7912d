package ai.sonia.gateway.domain;

import com.google.protobuf.util.Timestamps;

import ai.sonia.gateway.v1.ApiKey;
import ai.sonia.gateway.v1.User;

/** Stored rows as the contract's messages; never with a hash. */
final class AccountProtos {

    static User user(AccountStore.UserRow row) {
        return User.newBuilder()
                   .setUserId(row.id())
                   .setTenant(row.tenant())
                   .setUsername(row.username())
                   .setDisplayName(row.displayName())
                   .setRole(row.role())
                   .setDisabled(row.disabled())
                   .setMustChangePassword(row.mustChangePassword())
                   .setCreateTime(Timestamps.fromMillis(row.createMs()))
                   .build();
    }

    static ApiKey key(AccountStore.KeyRow row) {
        return ApiKey.newBuilder()
                     .setKeyId(row.id())
                     .setName(row.name())
                     .setTenant(row.tenant())
                     .setOwner(row.owner())
                     .setRole(row.role())
                     .setCreateTime(Timestamps.fromMillis(row.createMs()))
                     .build();
    }

    private AccountProtos() {}
}
