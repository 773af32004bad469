// Plugin loading on a machine other people use (README "Writing a job";
// runtime/plugin_loader.h). Each case lays out a copy of libwordcount.so
// under a fresh TempDir (itself 0700 root in /tmp, 1777 root: a legitimate
// chain for root) and runs `sluice run --plugin` on a tiny input. A folder
// or file that another user could write or own is refused with exit 2 and a
// message naming the exact path and its owner / mode; a plugin in a sticky
// world-writable folder that the user owns is fine; and the manifest's
// plugin_xxh3 is the hash of the very bytes on disk.
#include <pwd.h>
#include <xxhash.h>

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_util.h"

namespace sluice::e2e {
namespace {

constexpr int kUsage = 2;

std::string Sh(const std::string& s) { return "'" + s + "'"; }

uid_t NobodyUid() {
  const struct passwd* pw = getpwnam("nobody");
  return pw ? pw->pw_uid : 65534;
}

class PluginSecurityE2E : public ::testing::Test {
 protected:
  void SetUp() override { WriteFile(dir_ / "in.txt", "a b a\n"); }

  // mkdir -p DIR with MODE, then the plugin copied to DIR/libwordcount.so
  // with mode 0644 (what `cp` under umask 022 gives).
  std::string PlacePlugin(const std::string& folder, const std::string& mode = "0755") {
    const std::string so = folder + "/libwordcount.so";
    CommandResult r = RunCommand("mkdir -p " + Sh(folder) + " && chmod " + mode + " " + Sh(folder) +
                                 " && cp " + Sh(PluginPath("libwordcount.so")) + " " + Sh(so) +
                                 " && chmod 0644 " + Sh(so));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return so;
  }
  void Run(const std::string& plugin, int ranks = 1) {
    result_ = RunSluice(ranks, "run --plugin " + Sh(plugin) + " --input " + Sh(dir_ / "in.txt") +
                                   " --output " + Sh(dir_ / "out"));
  }
  void ExpectRefused(const std::vector<std::string>& mentions) {
    EXPECT_EQ(result_.exit_code, kUsage) << result_.output;
    EXPECT_NE(result_.output.find("refusing to load"), std::string::npos) << result_.output;
    for (const std::string& m : mentions) {
      EXPECT_NE(result_.output.find(m), std::string::npos) << "no '" << m << "' in:\n" << result_.output;
    }
    EXPECT_FALSE(Exists(dir_ / "out"));
  }

  TempDir dir_;
  CommandResult result_;
};

// ./link -> open (0777): the check must be of where the path leads, not of
// the symlink's own folder.
TEST_F(PluginSecurityE2E, RefusesASymlinkIntoAWorldWritableFolder) {
  PlacePlugin(dir_ / "open", "0777");
  ASSERT_EQ(RunCommand("ln -s open " + Sh(dir_ / "link")).exit_code, 0);
  for (int ranks : {1, 2}) {
    Run(dir_ / "link/libwordcount.so", ranks);
    ExpectRefused({"folder '" + (dir_ / "open") + "'", "mode 0777", "not sticky"});
  }
}

// A private-looking 0755 folder inside a 0777 one: anyone can rename the
// 0755 folder away and put their own in its place.
TEST_F(PluginSecurityE2E, RefusesAPrivateFolderInsideAWorldWritableOne) {
  ASSERT_EQ(RunCommand("mkdir -m 0777 " + Sh(dir_ / "open")).exit_code, 0);
  ASSERT_EQ(RunCommand("chmod 0777 " + Sh(dir_ / "open")).exit_code, 0);  // whatever the umask
  const std::string so = PlacePlugin(dir_ / "open/private", "0755");
  Run(so);
  ExpectRefused({"folder '" + (dir_ / "open") + "'", "mode 0777"});
  // The 0755 folder itself is fine; it is its parent that is named.
  EXPECT_EQ(result_.output.find("folder '" + (dir_ / "open/private") + "'"), std::string::npos)
      << result_.output;
}

// Root loading a library another user owns would run that user's code as
// root.
TEST_F(PluginSecurityE2E, RefusesAPluginOwnedByAnotherUser) {
  const std::string so = PlacePlugin(dir_ / "lib");
  ASSERT_EQ(RunCommand("chown nobody " + Sh(so)).exit_code, 0);
  Run(so);
  ExpectRefused({"file '" + so + "'", "owner uid " + std::to_string(NobodyUid()), "another user"});
}

TEST_F(PluginSecurityE2E, RefusesAGroupWritablePlugin) {
  const std::string so = PlacePlugin(dir_ / "lib");
  ASSERT_EQ(RunCommand("chmod 0664 " + Sh(so)).exit_code, 0);
  Run(so);
  ExpectRefused({"file '" + so + "'", "mode 0664", "writable by group or others", "chmod go-w"});
}

// A folder owned by another user, even 0755: its owner can swap the plugin.
TEST_F(PluginSecurityE2E, RefusesAFolderOwnedByAnotherUser) {
  const std::string so = PlacePlugin(dir_ / "theirs");
  ASSERT_EQ(RunCommand("chown nobody " + Sh(dir_ / "theirs")).exit_code, 0);
  Run(so);
  ExpectRefused({"folder '" + (dir_ / "theirs") + "'",
                 "owner uid " + std::to_string(NobodyUid())});
}

// Sticky and world-writable (like /tmp): others cannot rename what the user
// owns in it, so the user's own file there is fine; another user's is not.
TEST_F(PluginSecurityE2E, AcceptsTheUsersOwnPluginInAStickyFolderButNotAnothers) {
  const std::string so = PlacePlugin(dir_ / "sticky", "1777");
  Run(so);
  ASSERT_EQ(result_.exit_code, 0) << result_.output;
  EXPECT_TRUE(Exists(dir_ / "out/_SUCCESS"));
  ASSERT_EQ(RunCommand("rm -rf " + Sh(dir_ / "out") + " && chown nobody " + Sh(so)).exit_code, 0);
  Run(so);
  ExpectRefused({"folder '" + (dir_ / "sticky") + "'", "mode 1777",
                 "owned by uid " + std::to_string(NobodyUid())});
}

// The plugin that ran is the plugin the manifest names: plugin_xxh3 is the
// xxh3 of the file's bytes (hashed from the descriptor that was loaded).
TEST_F(PluginSecurityE2E, ManifestRecordsTheXxh3OfTheLoadedFile) {
  const std::string so = PlacePlugin(dir_ / "lib");
  Run(so);
  ASSERT_EQ(result_.exit_code, 0) << result_.output;
  const std::string bytes = ReadFile(so);
  char want[24];
  std::snprintf(want, sizeof want, "%016llx",
                static_cast<unsigned long long>(XXH3_64bits(bytes.data(), bytes.size())));
  const nlohmann::json manifest = ReadJson(dir_ / "out/_manifest.json");
  const nlohmann::json::json_pointer at("/job/plugin_xxh3");
  EXPECT_EQ(manifest.value(at, std::string()), want) << manifest.dump(2);
}

// A plugin whose descriptor has the current ABI version but was built
// against other boundary headers (another layout hash): refused, rebuild.
TEST_F(PluginSecurityE2E, RefusesAPluginBuiltAgainstOtherHeaders) {
  for (int ranks : {1, 2}) {
    Run(PluginPath("test/libstale_layout.so"), ranks);
    EXPECT_EQ(result_.exit_code, kUsage) << result_.output;
    EXPECT_NE(result_.output.find("built against other Sluice headers"), std::string::npos)
        << result_.output;
    EXPECT_NE(result_.output.find("rebuild the plugin"), std::string::npos) << result_.output;
    EXPECT_FALSE(Exists(dir_ / "out"));
  }
}

}  // namespace
}  // namespace sluice::e2e
