package io.hashidx.store;

import java.util.List;

/**
 * One bucket and its overflow chain as stored, from {@link HashIndex#inspectBucket(long)}. Read-only
 * introspection for tools: every slot is shown, empty ones and evacuation marks included.
 *
 * @param bucket         the bucket's index in the current array
 * @param buckets        the current array's bucket count
 * @param growing        a growth is under way
 * @param oldBucket      the old bucket whose entries map to this bucket while growing, else -1
 * @param oldEvacuated   whether that old bucket is evacuated (true when not growing)
 * @param pages          the current bucket's primary page and overflow pages, in chain order
 * @param oldPages       the old bucket's pages while growing and it is not evacuated, else empty
 * @param chainProblem   null, or why a chain walk stopped early (a cycle, a link outside the file)
 */
public record BucketView(long bucket, long buckets, boolean growing, long oldBucket, boolean oldEvacuated,
                         List<Page> pages, List<Page> oldPages, String chainProblem) {

    /**
     * One page (cell) of a chain.
     *
     * @param overflowCell the next page's cell, or -1 at the end of the chain
     */
    public record Page(long cell, long fileOffset, long overflowCell, List<Slot> slots) {
    }

    /**
     * One slot of a page.
     *
     * @param state {@code empty_rest}, {@code empty_one}, {@code evacuated_x}, {@code evacuated_y},
     *              {@code evacuated_empty} or {@code tophash} (a live entry)
     * @param key   the stored key for a live or evacuated-X/Y slot, else null
     * @param value the stored value for a live or evacuated-X/Y slot, else null
     */
    public record Slot(int index, int tophash, String state, byte[] key, byte[] value) {
    }
}
