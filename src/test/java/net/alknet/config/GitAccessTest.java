package net.alknet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import net.alknet.auth.ConfigFormatException;
import org.junit.jupiter.api.Test;

/** The {@code git_access} file: parsing, matching, defaults, deny by default, bad input. */
class GitAccessTest {

  @Test
  void noRulesMeansThePlainScopesForEveryRepository() throws Exception {
    for (String text : new String[] {"", "# only a comment\n\n   \n"}) {
      GitAccess a = GitAccess.parse(text);
      GitAccess.Rule r = a.ruleFor("any/repo").orElseThrow();
      assertEquals(Set.of("git:read"), r.read());
      assertEquals(Set.of("git:write"), r.write());
      assertEquals(Set.of("git:create"), r.create());
      assertFalse(r.denyNonFastForward() || r.denyDeletes() || r.requireSignedPush());
    }
    assertTrue(GitAccess.DEFAULT.ruleFor("x").isPresent());
  }

  @Test
  void firstMatchingLineWinsAndUnmatchedRepositoriesAreDenied() throws Exception {
    GitAccess a =
        GitAccess.parse(
            """
            # team repositories
            team/*      read=git:read:team write=git:write:team create=  # nobody creates
            releases    deny-non-fast-forward deny-deletes
            signed.git  require-signed-push
            public/**   read=anonymous,git:read write=
            """);
    GitAccess.Rule team = a.ruleFor("team/app").orElseThrow();
    assertEquals(Set.of("git:read:team"), team.read());
    assertEquals(Set.of(), team.create());
    assertEquals(3, a.ruleFor("releases").orElseThrow().line());
    assertTrue(a.ruleFor("releases").orElseThrow().denyNonFastForward());
    assertTrue(a.ruleFor("releases").orElseThrow().denyDeletes());
    assertEquals(Set.of("git:write"), a.ruleFor("releases").orElseThrow().write());
    assertTrue(a.ruleFor("signed").orElseThrow().requireSignedPush());
    assertTrue(a.ruleFor("public/a/b/c").isPresent());
    // '*' stops at '/', and nothing matches these: denied.
    assertTrue(a.ruleFor("team/app/sub").isEmpty());
    assertTrue(a.ruleFor("other").isEmpty());
    assertTrue(a.ruleFor("releases2").isEmpty());
  }

  @Test
  void globs() {
    assertTrue(Glob.compile("**").matches("a/b/c"));
    assertTrue(Glob.compile("a/**/z").matches("a/z"));
    assertTrue(Glob.compile("a/**/z").matches("a/b/c/z"));
    assertFalse(Glob.compile("a/**/z").matches("a/bz"), "**/ ends at a slash");
    assertFalse(Glob.compile("a/*").matches("a/b/c"));
    assertTrue(Glob.compile("a?c").matches("abc"));
    assertFalse(Glob.compile("a?c").matches("a/c"));
    assertFalse(Glob.compile("a.c").matches("abc"));
    assertTrue(Glob.compile("app.git").matches("app"));
    assertTrue(Glob.compile("**").matches(""));
    assertFalse(Glob.compile("?").matches(""));
  }

  /** The regex the globs were compiled to before: the meaning the matcher must keep. */
  static java.util.regex.Pattern regex(String p) {
    String g = p.endsWith(".git") ? p.substring(0, p.length() - 4) : p;
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < g.length(); i++) {
      char c = g.charAt(i);
      if (c == '*' && i + 1 < g.length() && g.charAt(i + 1) == '*') {
        i++;
        if (i + 1 < g.length() && g.charAt(i + 1) == '/') {
          i++;
          re.append("(?:.*/)?");
        } else {
          re.append(".*");
        }
      } else if (c == '*') {
        re.append("[^/]*");
      } else if (c == '?') {
        re.append("[^/]");
      } else {
        re.append(java.util.regex.Pattern.quote(String.valueOf(c)));
      }
    }
    return java.util.regex.Pattern.compile(re.toString());
  }

  @Test
  void theMatcherAgreesWithTheRegexOnRandomPatternsAndNames() {
    java.util.Random random = new java.util.Random(11);
    String[] pieces = {"a", "b", "/", "*", "**", "**/", "?", "ab", "a/"};
    String names = "ab/";
    for (int t = 0; t < 20_000; t++) {
      StringBuilder p = new StringBuilder();
      for (int k = 1 + random.nextInt(6); k > 0; k--) {
        p.append(pieces[random.nextInt(pieces.length)]);
      }
      String pattern = p.toString();
      if (pattern.contains("***")) {
        continue; // refused by the parser
      }
      StringBuilder n = new StringBuilder();
      for (int k = random.nextInt(8); k > 0; k--) {
        n.append(names.charAt(random.nextInt(names.length())));
      }
      String name = n.toString();
      assertEquals(
          regex(pattern).matcher(name).matches(),
          Glob.compile(pattern).matches(name),
          "'" + pattern + "' on '" + name + "'");
    }
  }

  @Test
  void aPatternThatWouldBacktrackMatchesInLinearTime() {
    // As a regex, [^/]*a[^/]*a... against 200 a's and no b backtracks for a very long time.
    String name = "a".repeat(200);
    Glob g = Glob.compile("*a*a*a*a*a*a*a*a*b");
    assertFalse(
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            java.time.Duration.ofSeconds(10), () -> g.matches(name)));
    assertTrue(Glob.compile("*a*a*a*a*a*a*a*a*").matches(name));
  }

  @Test
  void scopeListsGrantHierarchically() throws Exception {
    GitAccess.Rule team =
        GitAccess.parse("team/* read=git:read:team\n").ruleFor("team/x").orElseThrow();
    assertTrue(GitAccess.Rule.allows(Set.of("git:read:team"), team.read()));
    assertTrue(GitAccess.Rule.allows(Set.of("git:read"), team.read()));
    assertTrue(GitAccess.Rule.allows(Set.of("git"), team.read()));
    assertFalse(GitAccess.Rule.allows(Set.of("git:read:other"), team.read()));
    assertFalse(GitAccess.Rule.allows(Set.of("git:write"), team.read()));
    assertFalse(GitAccess.Rule.allows(Set.of("*"), Set.of()));
  }

  @Test
  void badLinesNameTheLineAndTheProblem() {
    assertEquals("git_access:2: unknown option 'wrte'", error("a\nb wrte=git:write\n"));
    assertEquals("git_access:1: option 'read' given twice", error("a read=x read=y"));
    assertTrue(error("a read").contains("needs a scope list"));
    assertTrue(error("a deny-deletes=yes").contains("takes no value"));
    assertTrue(error("a read=bad!scope").contains("invalid scope"));
    assertTrue(error("../x").contains("('..')"));
    assertTrue(error("/abs").contains("no leading"));
    assertTrue(error("a//b").contains("double"));
    assertTrue(error("a***").contains("'***'"));
    assertTrue(error("a\u0001b").contains("bad pattern"));
    assertTrue(error("read=git:read").contains("not an option"));
    assertTrue(error("a".repeat(300)).contains("pattern too long"));
    assertTrue(error("a " + "x".repeat(GitAccess.MAX_LINE)).contains("line too long"));
    assertTrue(error("a\n".repeat(GitAccess.MAX_RULES + 1)).contains("too many rules"));
    assertTrue(error("#".repeat(GitAccess.MAX_FILE + 1)).contains("file too large"));
  }

  private static String error(String text) {
    return assertThrows(ConfigFormatException.class, () -> GitAccess.parse(text)).getMessage();
  }
}
