package io.hashidx.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * {@link DiskFullTest} on the portable path: the file extended by writing zeros through the channel,
 * as in a JVM without native access (the store tests run with it, as the launcher does).
 */
class DiskFullWithoutFallocateTest extends DiskFullTest {
    @BeforeEach
    void portable() {
        Native.suspended = true;
    }

    @AfterEach
    void restore() {
        Native.suspended = false;
    }
}
