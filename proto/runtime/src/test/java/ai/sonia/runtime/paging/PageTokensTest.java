package ai.sonia.runtime.paging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import ai.sonia.common.v1.ErrorCode;
import ai.sonia.runtime.errors.DomainException;

class PageTokensTest {

    private static final String QUERY = "ListNotes tenant=acme state=ACTIVE";

    @Test
    void aTokenGivesBackItsKeyForTheSameQuery() {
        final List<String> key = List.of("1700000000000", "n-42", "ünïcödé / : =");
        final String token = PageTokens.next(QUERY, key);
        assertThat(token).matches("[A-Za-z0-9_-]+"); // URL-safe, no padding
        assertThat(token).doesNotContain("acme").doesNotContain("n-42");
        assertThat(PageTokens.after(token, QUERY)).contains(key);
    }

    @Test
    void anEmptyTokenIsTheFirstPage() {
        assertThat(PageTokens.after("", QUERY)).isEqualTo(Optional.empty());
        assertThat(PageTokens.after(null, QUERY)).isEqualTo(Optional.empty());
    }

    @Test
    void aTokenOfAnotherQueryIsRefusedOnPageToken() {
        final String token = PageTokens.next(QUERY, List.of("7"));
        assertThatThrownBy(() -> PageTokens.after(token, "ListNotes tenant=other state=ACTIVE"))
                .isInstanceOfSatisfying(DomainException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.ERROR_CODE_INVALID_ARGUMENT);
                    assertThat(e.field()).isEqualTo("page_token");
                    assertThat(e.getMessage()).contains("another query");
                });
    }

    @ParameterizedTest
    @ValueSource(strings = {"garbage!", "AAAA", "bm90IGEgdG9rZW4", "%%%", "AQ", "===="})
    void garbageIsRefusedOnPageToken(String token) {
        assertThatThrownBy(() -> PageTokens.after(token, QUERY))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.field()).isEqualTo("page_token"));
    }

    @Test
    void aTruncatedOrExtendedTokenIsRefused() {
        final String token = PageTokens.next(QUERY, List.of("12345", "abc"));
        final byte[] bytes = Base64.getUrlDecoder().decode(token);
        final String truncated = Base64.getUrlEncoder().withoutPadding()
                                       .encodeToString(java.util.Arrays.copyOf(bytes, bytes.length - 2));
        final String extended = token + Base64.getUrlEncoder().withoutPadding()
                                              .encodeToString("x".getBytes(StandardCharsets.UTF_8));
        for (String bad : List.of(truncated, extended, "A".repeat(5000))) {
            assertThatThrownBy(() -> PageTokens.after(bad, QUERY)).isInstanceOf(DomainException.class);
        }
    }

    @Test
    void keysetPagesNeitherSkipNorRepeatUnderInserts() {
        final TreeSet<Integer> rows = new TreeSet<>(List.of(10, 20, 30, 40, 50, 60, 70));
        final List<Integer> seen = new ArrayList<>();
        String token = "";
        do {
            final Optional<List<String>> after = PageTokens.after(token, QUERY);
            final List<Integer> page = (after.isEmpty() ? rows : rows.tailSet(Integer.parseInt(after.get().get(0)), false))
                    .stream().limit(3).toList();
            seen.addAll(page);
            rows.add(5);  // inserted before the window: not seen, and no row shifts into a repeat
            rows.add(page.get(page.size() - 1) + 1); // inserted after it: seen on a later page
            token = page.size() < 3 ? "" : PageTokens.next(QUERY, List.of(String.valueOf(page.get(page.size() - 1))));
        } while (!token.isEmpty());
        assertThat(seen).doesNotHaveDuplicates().isSorted().contains(10, 20, 30, 40, 50, 60, 70);
    }

    @ParameterizedTest
    @CsvSource({"0, 50", "1, 1", "50, 50", "999, 999", "1000, 1000", "1001, 1000", "2147483647, 1000"})
    void pageSizeDefaultsAndClamps(int requested, int expected) {
        assertThat(PageTokens.pageSize(requested, 50, 1000)).isEqualTo(expected);
    }

    @Test
    void aNegativePageSizeIsRefusedOnPageSize() {
        assertThatThrownBy(() -> PageTokens.pageSize(-1, 50, 1000))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.field()).isEqualTo("page_size"));
        assertThatThrownBy(() -> PageTokens.pageSize(10, 50, 20)).isInstanceOf(IllegalArgumentException.class);
    }
}
