package io.hashidx.tools.torture;

import io.hashidx.store.Inspection;

/**
 * The growth state a child reports on each line, as one token: {@code -} when no growth is under
 * way, else {@code D<old buckets>:<evacuated>} for a doubling or {@code S<old buckets>:<evacuated>}
 * for a same-size growth.
 */
record GrowthState(boolean growing, boolean sameSize, long oldBuckets, long evacuated) {
    static final GrowthState NONE = new GrowthState(false, false, 0, 0);

    static String token(Inspection.Growth g) {
        return g.growing() ? (g.sameSize() ? "S" : "D") + g.oldBuckets() + ":" + g.evacuated() : "-";
    }

    static GrowthState parse(String token) {
        if (token.equals("-")) {
            return NONE;
        }
        int colon = token.indexOf(':');
        char kind = token.charAt(0);
        if (colon < 0 || (kind != 'D' && kind != 'S')) {
            throw new IllegalArgumentException("not a growth state: " + token);
        }
        return new GrowthState(true, kind == 'S', Long.parseLong(token.substring(1, colon)),
                Long.parseLong(token.substring(colon + 1)));
    }

    /** Buckets of the array being filled. */
    long newBuckets() {
        return sameSize ? oldBuckets : 2 * oldBuckets;
    }

    /** Whether this state shows a growth that {@code before} did not. */
    boolean startedSince(GrowthState before) {
        return growing && (!before.growing || before.oldBuckets != oldBuckets || before.sameSize != sameSize);
    }
}
