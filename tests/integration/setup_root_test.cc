// composefs-setup-root on a fake sysroot: a tmpfs holding an insecure repository and the
// images' state directories, in a private mount namespace (unshare -m) with its own /run, so
// that nothing leaks. A shell script there runs the tool and reports what the new root looks
// like; a failure must leave the mount table as it was. (Secure arguments with fs-verity
// need a filesystem with fs-verity: the VM tests.)
#include <gtest/gtest.h>

#include "support/fs_compare.h"
#include "support/support.h"

namespace cfs {
namespace {

namespace fs = test::fs;
using test::run;

// One line per directory of the new root: what is mounted there (FSTYPE SOURCE, "-" for
// nothing), the content of its file "from" (image-*, or state-* from a state directory), and
// where a new file lands in the physical root ("read-only", or "elsewhere": a tmpfs).
constexpr const char* kReport = R"sh(
report() {
  if mountpoint -q "$2"; then mnt=$(findmnt -rn -o FSTYPE,SOURCE -M "$2" | tail -1); else mnt=-; fi
  probe="probe-$(basename "$2")"
  if (echo probe > "$2/$probe") 2>/dev/null; then
    where=$(cd "$SYS/sysroot" && find . -name "$probe" | head -1)
    [ -n "$where" ] || where=elsewhere
  else
    where=read-only
  fi
  echo "$1: $mnt; $(cat "$2/from"); write: $where" | sed "s/$ID/ID/g"
}
report / "$SYS"
report etc "$SYS/etc"
report var "$SYS/var"
echo "sysroot: $(findmnt -rn -o FSTYPE,SOURCE -M "$SYS/sysroot"); $(cat "$SYS/sysroot/marker")"
)sh";

struct Outcome {
  int status = -1;
  std::string out, err;  // the tool's
  std::string seen;      // what the check script printed afterwards
  bool mounts_unchanged = false;
  bool run_unchanged = false;  // nothing left in /run
};

class SetupRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    CFS_REQUIRE_MOUNTS();
    CFS_REQUIRE(run({"unshare", "-m", "true"}).status == 0,
                "cannot make a mount namespace (unshare -m)");
    id_ = image("root", true);
    other_ = image("other", false);
    test::write_file(prep_ / "marker", "physical");
  }

  // An image of a small root (its files say `name`) in the repository; with `state`, its
  // state/deploy/<id>/{etc,var}.
  std::string image(const std::string& name, bool state) {
    fs::path src = tmp_ / ("src-" + name);
    for (const char* d : {"etc", "var", "sysroot", "usr/bin"}) fs::create_directories(src / d);
    test::write_file(src / "from", "image-" + name);
    test::write_file(src / "etc" / "from", "image-etc");
    test::write_file(src / "var" / "from", "image-var");
    test::write_file(src / "usr" / "bin" / "tool", std::string(20000, 'x') + name);  // an object
    fs::path repo = prep_ / "composefs";
    if (!fs::exists(repo)) {
      EXPECT_EQ(test::cfsctl(repo, {"init", "--insecure"}).status, 0);
    }
    test::Run r = test::cfsctl(repo, {"create-image", src.string()});
    EXPECT_EQ(r.status, 0) << r.err;
    std::string id = r.out.substr(r.out.find(':') + 1);
    id.erase(id.find_last_not_of('\n') + 1);
    if (state) {
      fs::path dir = prep_ / "state" / "deploy" / id;
      fs::create_directories(dir / "etc");
      fs::create_directories(dir / "var");
      test::write_file(dir / "etc" / "from", "state-etc");
      test::write_file(dir / "var" / "from", "state-var");
    }
    return id;
  }

  // composefs-setup-root --cmdline `cmdline` on a sysroot holding prep_, with `config` as its
  // configuration file (none if empty); `before` runs first (in the namespace), `check` after.
  Outcome setup(const std::string& cmdline, const std::string& config = "",
                const std::string& check = "", const std::string& before = "") {
    fs::path out = tmp_ / ("run" + std::to_string(runs_++)), sys = tmp_ / "sys";
    fs::create_directories(out);
    fs::create_directories(sys);
    if (!config.empty()) test::write_file(out / "conf.toml", config);
    std::string script = R"sh(set -e
mount -t tmpfs -o mode=0755 sysroot "$SYS"
cp -a "$PREP/." "$SYS/"
mount -t tmpfs -o mode=0755 run /run
)sh" + before + R"sh(
cat /proc/self/mountinfo > "$OUT/before"
ls -A /run > "$OUT/run-before"
set +e
"$TOOL" --sysroot "$SYS" --config "$OUT/conf.toml" --cmdline "$CMDLINE" > "$OUT/out" 2> "$OUT/err"
echo $? > "$OUT/status"
cat /proc/self/mountinfo > "$OUT/after"
ls -A /run > "$OUT/run-after"
cd /
)sh" + check;
    test::Run r = run(
        {"unshare", "-m", "--propagation", "private", "sh", "-c", script}, "",
        {"SYS=" + sys.string(), "PREP=" + prep_.string(), "OUT=" + out.string(),
         "TOOL=" + test::tool("composefs-setup-root").string(), "CMDLINE=" + cmdline, "ID=" + id_});
    EXPECT_EQ(r.err, "");
    Outcome o;
    o.status = std::stoi(test::read_file(out / "status"));
    o.out = test::read_file(out / "out");
    o.err = test::read_file(out / "err");
    o.seen = r.out;
    o.mounts_unchanged = test::read_file(out / "before") == test::read_file(out / "after");
    o.run_unchanged = test::read_file(out / "run-before") == test::read_file(out / "run-after");
    return o;
  }

  std::string insecure(const std::string& hex) const { return "composefs=?" + hex; }

  // A failure: exit 1, `message` as the one line on stderr, nothing left mounted or in /run.
  void expect_failure(const Outcome& o, const std::string& message) const {
    EXPECT_EQ(o.status, 1);
    EXPECT_EQ(o.err, "composefs-setup-root: " + message + "\n");
    EXPECT_TRUE(o.mounts_unchanged) << "mounts changed";
    EXPECT_TRUE(o.run_unchanged) << "files left in /run";
  }

  test::TempDir tmp_;
  fs::path prep_ = tmp_ / "prep";  // the sysroot's content
  std::string id_, other_;         // other_ has no state directory
  int runs_ = 0;
};

// The default configuration: the image read-only at /, /etc an overlay whose writes land in
// the state directory's etc/upper (0755; work 0700), /var the state's var, /sysroot the
// physical root; the staging area gone.
TEST_F(SetupRoot, DefaultsAsComposefsRs) {
  Outcome o = setup("quiet " + insecure(id_) + " rw", "", std::string(kReport) + R"sh(
stat -c '%n %a' "$SYS/sysroot/state/deploy/$ID/etc/upper" "$SYS/sysroot/state/deploy/$ID/etc/work" | sed "s|$SYS/sysroot/state/deploy/$ID/||")sh");
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.seen,
            "/: overlay composefs; image-root; write: read-only\n"
            "etc: overlay overlay; image-etc; write: ./state/deploy/ID/etc/upper/probe-etc\n"
            "var: tmpfs sysroot[/state/deploy/ID/var]; state-var; write: "
            "./state/deploy/ID/var/probe-var\n"
            "sysroot: tmpfs sysroot; physical\n"
            "etc/upper 755\n"
            "etc/work 700\n");
  EXPECT_TRUE(o.run_unchanged) << "files left in /run";
}

// The same through the V1 form, and the config's variants (composefs-rs's MountType).
TEST_F(SetupRoot, ConfigVariants) {
  struct Case {
    std::string config;
    std::string seen;
  } cases[] = {
      {"[etc]\nmount = \"none\"\n[var]\nmount = \"none\"\n",
       "/: overlay composefs; image-root; write: read-only\n"
       "etc: -; image-etc; write: read-only\n"
       "var: -; image-var; write: read-only\n"},
      {"[etc]\nmount = \"bind\"\n[var]\nmount = \"overlay\"\n",
       "/: overlay composefs; image-root; write: read-only\n"
       "etc: tmpfs sysroot[/state/deploy/ID/etc]; state-etc; write: "
       "./state/deploy/ID/etc/probe-etc\n"
       "var: overlay overlay; image-var; write: ./state/deploy/ID/var/upper/probe-var\n"},
      {"[etc]\nmount = \"transient\"\n[var]\ntransient = true\n",
       "/: overlay composefs; image-root; write: read-only\n"
       "etc: overlay transient; image-etc; write: elsewhere\n"
       "var: overlay transient; image-var; write: elsewhere\n"},
      {"[etc]\nmount = \"overlay\"\ntransient = true\n[root]\ntransient = true\n",  // mount wins
       "/: overlay transient; image-root; write: elsewhere\n"
       "etc: overlay overlay; image-etc; write: ./state/deploy/ID/etc/upper/probe-etc\n"
       "var: tmpfs sysroot[/state/deploy/ID/var]; state-var; write: "
       "./state/deploy/ID/var/probe-var\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.config);
    Outcome o = setup("composefs.digest=?v1-sha512-12:" + id_, c.config, kReport);
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.seen, c.seen + "sysroot: tmpfs sysroot; physical\n");
  }
}

// Arguments in command-line order; the first whose image exists wins, the others are named.
TEST_F(SetupRoot, FirstExistingImageWins) {
  std::string missing(128, 'a');
  Outcome o =
      setup(insecure(missing) + " composefs.digest=?v1-sha512-12:" + id_ + " " + insecure(other_),
            "", "cat \"$SYS/from\"");
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out,
            "composefs-setup-root: image " + missing + " not found, trying the next argument\n");
  EXPECT_EQ(o.seen, "image-root");
}

// A sysroot mounted read-only (initramfs-tools without `rw`) is remounted read-write, once
// an image is found; after a later failure it is read-only again.
TEST_F(SetupRoot, ReadOnlySysrootIsRemounted) {
  std::string ro = R"sh(mount -o remount,ro "$SYS")sh";
  Outcome o = setup(insecure(id_), "", std::string(kReport), ro);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "composefs-setup-root: remounted " + (tmp_ / "sys").string() +
                       " read-write (it was mounted read-only)\n");
  EXPECT_NE(o.seen.find(
                "etc: overlay overlay; image-etc; write: ./state/deploy/ID/etc/upper/probe-etc\n"),
            std::string::npos)
      << o.seen;

  Outcome failed = setup(insecure(other_), "", "", ro);  // no state directory
  expect_failure(failed, "state directory " + (tmp_ / "sys").string() + "/state/deploy/" + other_ +
                             ": No such file or directory (" + insecure(other_) + ")");
}

TEST_F(SetupRoot, FailuresLeaveNothingMounted) {
  std::string sys = (tmp_ / "sys").string(), missing(128, 'b');
  expect_failure(setup("quiet rw"), "no composefs argument on the kernel command line");
  expect_failure(setup("composefs=abc"),
                 "malformed kernel argument: a digest of 3 characters (64 for sha256, 128 for "
                 "sha512) (composefs=abc)");
  expect_failure(setup(insecure(missing)), "no composefs image found (tried: " + missing + ")");
  expect_failure(setup("composefs=" + id_),
                 "repository " + sys +
                     "/composefs: repository was not initialized with fs-verity (hint: re-create "
                     "with `cfsctl init` on a verity-capable filesystem) (composefs=" +
                     id_ + ")");
  expect_failure(
      setup(insecure(id_), "[etc]\nmount = \"tmpfs\"\n"),
      (tmp_ / "run4" / "conf.toml").string() +
          ":2:9: [etc] mount: unknown value 'tmpfs' (expected none, bind, overlay or transient)");
  // After the image is mounted: its state directory is missing.
  expect_failure(setup(insecure(other_)), "state directory " + sys + "/state/deploy/" + other_ +
                                              ": No such file or directory (" + insecure(other_) +
                                              ")");
}

// / and /run shared, as systemd makes them in the initramfs, and a mount below the physical
// root: the new root still moves into place, /sysroot/boot comes along, and a failure after
// the physical root was bound into the staging area unmounts nothing of the original (a
// detach of a shared mount's copy propagates to the original unless made private first).
TEST_F(SetupRoot, SharedMountsAsSystemdMakesThem) {
  std::string shared = R"sh(mkdir -p "$SYS/boot"
mount -t tmpfs -o mode=0755 boot "$SYS/boot"
echo kernel > "$SYS/boot/vmlinuz"
mount --make-rshared /)sh";
  Outcome o = setup(insecure(id_), "", std::string(kReport) + R"sh(
cat "$SYS/sysroot/boot/vmlinuz"
findmnt -rn -o PROPAGATION -M /run)sh",
                    shared);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.seen,
            "/: overlay composefs; image-root; write: read-only\n"
            "etc: overlay overlay; image-etc; write: ./state/deploy/ID/etc/upper/probe-etc\n"
            "var: tmpfs sysroot[/state/deploy/ID/var]; state-var; write: "
            "./state/deploy/ID/var/probe-var\n"
            "sysroot: tmpfs sysroot; physical\n"
            "kernel\n"
            "shared\n");
  Outcome failed = setup(insecure(other_), "", "", shared);  // no state directory
  expect_failure(failed, "state directory " + (tmp_ / "sys").string() + "/state/deploy/" + other_ +
                             ": No such file or directory (" + insecure(other_) + ")");
}

// An image whose bytes are not those its ID names is refused, not mounted.
TEST_F(SetupRoot, WrongImageBytesAreRefused) {
  // The object of id_ replaced by the bytes of other_.
  std::string id_obj = "composefs/objects/" + id_.substr(0, 2) + "/" + id_.substr(2);
  std::string other_obj = "composefs/objects/" + other_.substr(0, 2) + "/" + other_.substr(2);
  fs::remove(prep_ / id_obj);
  fs::copy_file(prep_ / other_obj, prep_ / id_obj);
  expect_failure(setup(insecure(id_)),
                 "mounting the image: Image has wrong fs-verity (" + insecure(id_) + ")");
}

}  // namespace
}  // namespace cfs
