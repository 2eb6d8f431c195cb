package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GetPutDeleteTest {
    @TempDir
    Path dir;

    private String file;

    @BeforeEach
    void create() {
        file = dir.resolve("x.hidx").toString();
        Cli created = Cli.run("create", file, "--key-size", "8", "--value-size", "16", "--seed", "0x9e3779b97f4a7c15");
        assertThat(created.exitCode()).as(created.toString()).isZero();
        assertThat(created.out()).startsWith("created " + file + ": key width 8 bytes, value width 16 bytes, "
                + "seed 0x9e3779b97f4a7c15, 1 bucket, file of ");
    }

    @Test
    void putGetDeleteRoundTripWithExitCodes() {
        assertThat(Cli.run("put", file, "apple", "red")).isEqualTo(new Cli(0, "inserted\n", ""));
        assertThat(Cli.run("put", file, "pear", "green")).isEqualTo(new Cli(0, "inserted\n", ""));
        assertThat(Cli.run("put", file, "apple", "green too")).isEqualTo(new Cli(0, "replaced\n", ""));

        assertThat(Cli.run("get", file, "apple")).isEqualTo(new Cli(0, "green too\n", ""));
        assertThat(Cli.run("get", file, "apple", "pear")).isEqualTo(new Cli(0, "apple\tgreen too\npear\tgreen\n", ""));
        assertThat(Cli.run("get", file, "plum")).isEqualTo(new Cli(1, "", "not found: plum\n"));
        assertThat(Cli.run("get", file, "plum", "pear")).isEqualTo(new Cli(1, "pear\tgreen\n", "not found: plum\n"));

        assertThat(Cli.run("delete", file, "apple", "plum")).isEqualTo(new Cli(1, "deleted 1 of 2\n", "not found: plum\n"));
        assertThat(Cli.run("delete", file, "pear")).isEqualTo(new Cli(0, "deleted 1 of 1\n", ""));
        assertThat(Cli.run("get", file, "apple")).isEqualTo(new Cli(1, "", "not found: apple\n"));
        assertThat(Cli.run("verify", file)).isEqualTo(new Cli(0, "ok\n", ""));
    }

    @Test
    void emptyKeyAndEmptyValueAreEntriesToo() {
        assertThat(Cli.run("put", file, "", "")).isEqualTo(new Cli(0, "inserted\n", ""));
        assertThat(Cli.run("get", file, "")).isEqualTo(new Cli(0, "\n", ""));
        assertThat(Cli.run("get", "--hex", file, "")).isEqualTo(new Cli(0, "\n", ""));
    }

    @Test
    void hexKeysAndValuesRoundTripExactBytes() {
        assertThat(Cli.run("put", "--hex", file, "00ff", "0x80C0").out()).isEqualTo("inserted\n");
        assertThat(Cli.run("put", "--hex", file, "6b", "c3a9").out()).isEqualTo("inserted\n");

        assertThat(Cli.run("get", "--hex", file, "0x00FF")).isEqualTo(new Cli(0, "80c0\n", ""));
        assertThat(Cli.run("get", "--hex", file, "00ff", "6b", "01"))
                .isEqualTo(new Cli(1, "00ff\t80c0\n6b\tc3a9\n", "not found: 01\n"));
        assertThat(Cli.run("get", file, "k")).as("valid UTF-8 prints as text").isEqualTo(new Cli(0, "\u00e9\n", ""));
        assertThat(Cli.run("put", file, "bin", "x").exitCode()).isZero();
        assertThat(Cli.run("put", "--hex", file, "62696e", "ff00").out()).isEqualTo("replaced\n");
        assertThat(Cli.run("get", file, "bin")).as("not UTF-8: 0x hex").isEqualTo(new Cli(0, "0xff00\n", ""));
        assertThat(Cli.run("delete", "--hex", file, "00ff", "02")).isEqualTo(new Cli(1, "deleted 1 of 2\n", "not found: 02\n"));
    }

    @Test
    void badHexIsAUsageError() {
        Cli odd = Cli.run("get", "--hex", file, "abc");
        Cli notHex = Cli.run("put", "--hex", file, "00", "zz");

        assertThat(odd.exitCode()).isEqualTo(2);
        assertThat(odd.out()).isEmpty();
        assertThat(odd.err()).isEqualTo("hashidx get: KEY 'abc' is not a hex string: it has an odd number of digits "
                + "(see 'hashidx get --help')\n");
        assertThat(notHex.exitCode()).isEqualTo(2);
        assertThat(notHex.err()).startsWith("hashidx put: 'zz' is not a hex string: 'z' is not a hex digit");
    }

    @Test
    void putOfAKeyLongerThanTheWidthIsAHashidxErrorWithItsCode() {
        Cli put = Cli.run("put", file, "123456789", "v");

        assertThat(put.exitCode()).isEqualTo(2);
        assertThat(put.out()).isEmpty();
        assertThat(put.err()).startsWith("hashidx: HIDX-005 key too long: " + file + ": key of 9 bytes is longer "
                + "than this file's key width of 8 bytes");
        assertThat(put.err()).hasLineCount(1);
    }

    @Test
    void getAndDeleteOfAKeyLongerThanTheWidthFindNothingAndSayWhy() {
        Cli.run("put", file, "k", "v");

        assertThat(Cli.run("get", file, "k", "123456789")).isEqualTo(new Cli(1, "k\tv\n",
                "not found: 123456789 (9 bytes, longer than the file's key width of 8 bytes)\n"));
        assertThat(Cli.run("delete", file, "123456789")).isEqualTo(new Cli(1, "deleted 0 of 1\n",
                "not found: 123456789 (9 bytes, longer than the file's key width of 8 bytes)\n"));
    }
}
