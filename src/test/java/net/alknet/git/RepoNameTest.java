package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** GIT-2: repository names, including every traversal trick a peer might try. */
class RepoNameTest {

  @Test
  void acceptsPlainAndNestedNamesWithOrWithoutDotGit() throws Exception {
    assertEquals("app", RepoName.parse("app").name());
    assertEquals("app", RepoName.parse("/app").name());
    assertEquals("app", RepoName.parse("/app.git").name());
    assertEquals("team/app", RepoName.parse("/team/app.git").name());
    assertEquals("a-b_c.d", RepoName.parse("a-b_c.d").name());
    assertEquals("app.git", RepoName.parse("app.git.git").name());
    assertEquals("team/app.git", RepoName.parse("team/app").dirName());
    assertEquals(RepoName.parse("x.git"), RepoName.parse("/x"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "/",
        ".git",
        "/.git",
        "..",
        "/..",
        "../etc",
        "/../../etc/passwd",
        "a/../../b",
        "a/./b",
        "./a",
        "//etc/passwd",
        "///x",
        "~root/x",
        "~/x",
        "C:/x",
        "c:\\x",
        "a\\..\\b",
        "a//b",
        "a/",
        "/a/",
        ".hidden",
        "a/.git",
        "a/.git/config",
        "a.git/objects",
        "a b",
        "a:b",
        "a;rm",
        "a$b",
        "a*b",
        "%2e%2e/x",
        "\u00e9t\u00e9",
        "a\u0000b",
        "a\nb",
        "a\tb",
        "a\u007fb",
        "-/../x"
      })
  void refusesHostileNames(String raw) {
    GitRequestException e = assertThrows(GitRequestException.class, () -> RepoName.parse(raw));
    assertEquals(GitRequestException.Kind.BAD_NAME, e.kind());
  }

  @Test
  void messagesSayWhatIsWrong() {
    assertTrue(message("../x").contains("'..' is not allowed"));
    assertTrue(message("//etc").contains("absolute paths"));
    assertTrue(message("a\u0001").contains("control character"));
    assertTrue(message("a/.b").contains("must not start with '.'"));
    assertTrue(message("a b").contains("may contain only"));
  }

  @Test
  void enforcesLengthAndDepthLimits() throws Exception {
    assertEquals(200, RepoName.parse("a".repeat(200)).name().length());
    assertEquals(200, RepoName.parse("a".repeat(200) + ".git").name().length());
    assertTrue(message("a".repeat(201)).contains("too long"));
    assertTrue(message("a".repeat(100_000)).contains("too long"));
    RepoName.parse("a/b/c/d/e/f/g/h");
    assertTrue(message("a/b/c/d/e/f/g/h/i").contains("segments"));
  }

  private static String message(String raw) {
    return assertThrows(GitRequestException.class, () -> RepoName.parse(raw)).getMessage();
  }
}
