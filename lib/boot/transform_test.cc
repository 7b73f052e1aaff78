// The --bootable transform and SELinux relabelling of whole trees. Each case names the
// composefs-rs 0.9 test (crates/composefs-boot/src/selabel.rs, lib.rs) it mirrors; the
// expected labels follow that test's assertions or, for ours, composefs-rs's rules.
#include "boot/transform.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "boot/test_image.h"
#include "tree/links.h"
#include "writer/writer.h"

namespace cfs::boot {
namespace {

using test::error_of;

using test::image;
using test::label;

// /boot, /sysroot and /usr, which the transform needs.
const std::string kBootable =
    "/boot 0 40755 2 0 0 0 0.0 - - -\n"
    "/sysroot 0 40755 2 0 0 0 0.0 - - -\n"
    "/usr 0 40755 2 0 0 0 1000.0 - - -\n";

void transform(tree::Tree& t) {
  TreePolicyReader reader = test::inline_reader(t);
  transform_for_boot(t, reader);
}

struct Case {
  std::string mirrors;  // the composefs-rs test, or "ours: <rule>"
  test::PolicyFiles policy;
  std::string entries;  // below kBootable
  std::vector<std::pair<std::string, std::optional<std::string>>> labels;
};

TEST(BootTransform, Labels) {
  const Case cases[] = {
      {"selabel_applies_correct_labels",
       {{"file_contexts",
         "/\t\tsystem_u:object_r:root_t:s0\n/usr\t\tsystem_u:object_r:usr_t:s0\n"
         "/usr/bin(/.*)?\t\tsystem_u:object_r:bin_t:s0\n/etc(/"
         ".*)?\t\tsystem_u:object_r:etc_t:s0\n"}},
       "/etc/hostname 9 100644 1 0 0 0 0.0 - testhost\\n -\n/usr/bin 0 40755 2 0 0 0 1000.0 - - -\n"
       "/usr/bin/hello 21 100755 1 0 0 0 0.0 - #!/bin/sh\\necho\\x20hello\\n -\n",
       {{"/", "system_u:object_r:root_t:s0"},
        {"/usr", "system_u:object_r:usr_t:s0"},
        {"/usr/bin", "system_u:object_r:bin_t:s0"},
        {"/usr/bin/hello", "system_u:object_r:bin_t:s0"},
        {"/etc", "system_u:object_r:etc_t:s0"},
        {"/etc/hostname", "system_u:object_r:etc_t:s0"},
        {"/boot", std::nullopt}}},
      {"selabel_type_specific_labels",
       {{"file_contexts",
         "/var(/.*)?\t\tsystem_u:object_r:var_t:s0\n/var/log(/.*)? -d "
         "system_u:object_r:var_log_dir_t:s0\n"
         "/var/log(/.*)? -- system_u:object_r:var_log_t:s0\n/var/log(/.*)? -l "
         "system_u:object_r:var_log_link_t:s0\n"}},
       "/var 0 40755 2 0 0 0 0.0 - - -\n/var/log 0 40755 2 0 0 0 0.0 - - -\n"
       "/var/log/messages 10 100644 1 0 0 0 0.0 - 0123456789 -\n/var/log/current 4 120777 1 0 0 0 "
       "0.0 /var/log/messages - -\n",
       {{"/var", "system_u:object_r:var_t:s0"},
        {"/var/log", "system_u:object_r:var_log_dir_t:s0"},
        {"/var/log/messages", "system_u:object_r:var_log_t:s0"},
        {"/var/log/current", "system_u:object_r:var_log_link_t:s0"}}},
      {"selabel_subs_aliases",
       {{"file_contexts", "/home(/.*)?\t\tsystem_u:object_r:home_t:s0\n"},
        {"file_contexts.subs", "/srv/home /home\n"}},
       "/home 0 40755 2 0 0 0 0.0 - - -\n/home/user.txt 5 100644 1 0 0 0 0.0 - hello -\n"
       "/srv 0 40755 2 0 0 0 0.0 - - -\n/srv/home 0 40755 2 0 0 0 0.0 - - -\n"
       "/srv/home/data.txt 5 100644 1 0 0 0 0.0 - world -\n",
       {{"/home", "system_u:object_r:home_t:s0"},
        {"/home/user.txt", "system_u:object_r:home_t:s0"},
        {"/srv", std::nullopt},
        {"/srv/home", "system_u:object_r:home_t:s0"},
        {"/srv/home/data.txt", "system_u:object_r:home_t:s0"}}},
      {"ours: .subs_dist is read after .subs, so its alias wins; an alias is an exact path",
       {{"file_contexts", "/a(/.*)?\tA\n/b(/.*)?\tB\n"},
        {"file_contexts.subs", "/x /a\n"},
        {"file_contexts.subs_dist", "/x /b\n/y/z /a\n"}},
       "/x 0 40755 2 0 0 0 0.0 - - -\n/x/f 1 100644 1 0 0 0 0.0 - f -\n/y 0 40755 2 0 0 0 0.0 - - "
       "-\n"
       "/y/z2 1 100644 1 0 0 0 0.0 - f -\n",
       {{"/x", "B"}, {"/x/f", "B"}, {"/y/z2", std::nullopt}}},
      {"selabel_none_context",
       {{"file_contexts",
         "/tmp(/.*)?\t\tsystem_u:object_r:tmp_t:s0\n/tmp/private(/.*)?\t\t<<none>>\n"}},
       "/tmp 0 40755 2 0 0 0 0.0 - - -\n/tmp/scratch.txt 5 100644 1 0 0 0 0.0 - hello -\n"
       "/tmp/private 0 40755 2 0 0 0 0.0 - - - security.selinux=old\n"
       "/tmp/private/secret.txt 6 100644 1 0 0 0 0.0 - secret - security.selinux=old\n",
       {{"/tmp", "system_u:object_r:tmp_t:s0"},
        {"/tmp/scratch.txt", "system_u:object_r:tmp_t:s0"},
        {"/tmp/private", std::nullopt},
        {"/tmp/private/secret.txt", std::nullopt}}},
      {"selabel_local_overrides",
       {{"file_contexts", "/opt(/.*)?\t\tsystem_u:object_r:opt_t:s0\n"},
        {"file_contexts.local", "/opt/custom(/.*)?\t\tsystem_u:object_r:custom_t:s0\n"}},
       "/opt 0 40755 2 0 0 0 0.0 - - -\n/opt/readme.txt 7 100644 1 0 0 0 0.0 - default -\n"
       "/opt/custom 0 40755 2 0 0 0 0.0 - - -\n/opt/custom/app 3 100755 1 0 0 0 0.0 - app -\n",
       {{"/opt", "system_u:object_r:opt_t:s0"},
        {"/opt/readme.txt", "system_u:object_r:opt_t:s0"},
        {"/opt/custom", "system_u:object_r:custom_t:s0"},
        {"/opt/custom/app", "system_u:object_r:custom_t:s0"}}},
      {"ours: priority across files is file_contexts < .local < .homedirs (last line wins)",
       {{"file_contexts", "/h(/.*)?\tfc\n"},
        {"file_contexts.homedirs", "/h/u(/.*)?\thome\n"},
        {"file_contexts.local", "/h/u(/.*)?\tlocal\n/h/v\tlocal\n"}},
       "/h 0 40755 2 0 0 0 0.0 - - -\n/h/u 0 40755 2 0 0 0 0.0 - - -\n/h/v 1 100644 1 0 0 0 0.0 - "
       "v -\n",
       {{"/h", "fc"}, {"/h/u", "home"}, {"/h/v", "local"}}},
      {"selabel_device_and_fifo_labels",
       {{"file_contexts",
         "/dev(/.*)?\t\tsystem_u:object_r:device_t:s0\n/dev(/.*)? -b "
         "system_u:object_r:fixed_disk_device_t:s0\n"
         "/dev(/.*)? -c system_u:object_r:tty_device_t:s0\n/dev(/.*)? -p "
         "system_u:object_r:fifo_t:s0\n"}},
       "/dev 0 40755 2 0 0 0 0.0 - - -\n/dev/sda 0 60660 1 0 0 2049 0.0 - - -\n"
       "/dev/tty0 0 20666 1 0 0 1024 0.0 - - -\n/dev/initctl 0 10644 1 0 0 0 0.0 - - -\n",
       {{"/dev", "system_u:object_r:device_t:s0"},
        {"/dev/sda", "system_u:object_r:fixed_disk_device_t:s0"},
        {"/dev/tty0", "system_u:object_r:tty_device_t:s0"},
        {"/dev/initctl", "system_u:object_r:fifo_t:s0"}}},
      {"selabel_pcre2_positive_lookahead",
       {{"file_contexts",
         "/(/.*)?\t\tsystem_u:object_r:default_t:s0\n/opt(/.*)?\t\tsystem_u:object_r:opt_t:s0\n"
         "/opt/(?=protected).*\t\tsystem_u:object_r:protected_t:s0\n"}},
       "/opt 0 40755 2 0 0 0 0.0 - - -\n/opt/protected_data 5 100644 1 0 0 0 0.0 - hello -\n"
       "/opt/other_file 5 100644 1 0 0 0 0.0 - world -\n",
       {{"/opt/protected_data", "system_u:object_r:protected_t:s0"},
        {"/opt/other_file", "system_u:object_r:opt_t:s0"}}},
      {"selabel_pcre2_negative_lookahead",
       {{"file_contexts",
         "/(/.*)?\t\tsystem_u:object_r:default_t:s0\n/srv(/.*)?\t\tsystem_u:object_r:srv_t:s0\n"
         "/srv/(?!backup).*\t\tsystem_u:object_r:srv_public_t:s0\n"}},
       "/srv 0 40755 2 0 0 0 0.0 - - -\n/srv/website 5 100644 1 0 0 0 0.0 - hello -\n"
       "/srv/backup_2024 5 100644 1 0 0 0 0.0 - world -\n",
       {{"/srv/website", "system_u:object_r:srv_public_t:s0"},
        {"/srv/backup_2024", "system_u:object_r:srv_t:s0"}}},
      {"selabel_replaces_stale_labels",
       {{"file_contexts",
         "/(/.*)?\t\tsystem_u:object_r:default_t:s0\n/usr(/.*)?\t\tsystem_u:object_r:usr_t:s0\n"}},
       "/usr/lib 0 40755 2 0 0 0 0.0 - - - "
       "security.selinux=unconfined_u:object_r:container_file_t:s0:c0,c1\n"
       "/usr/lib/readme.txt 5 100644 1 0 0 0 0.0 - hello - "
       "security.selinux=unconfined_u:object_r:container_file_t:s0:c0,c1\n",
       {{"/usr", "system_u:object_r:usr_t:s0"},
        {"/usr/lib", "system_u:object_r:usr_t:s0"},
        {"/usr/lib/readme.txt", "system_u:object_r:usr_t:s0"}}},
  };
  for (const Case& c : cases) {
    tree::Tree t = image(kBootable + c.entries, c.policy);
    transform(t);
    for (const auto& [path, expected] : c.labels)
      EXPECT_EQ(label(t, path), expected) << c.mirrors << ": " << path;
  }
}

// selabel_strips_when_no_policy, and the other ways to have no policy.
TEST(BootTransform, NoPolicyStripsEveryLabel) {
  const std::string labelled =
      kBootable + "/file 1 100644 1 0 0 0 0.0 - x - security.selinux=old_label\n";
  struct Case {
    std::string what;
    test::PolicyFiles policy;
    std::optional<std::string> config;
  };
  const Case cases[] = {
      {"no /etc/selinux", {}, std::nullopt},
      {"no /etc/selinux/config", {{"file_contexts", "/(/.*)? x\n"}}, std::nullopt},
      {"a config without SELINUXTYPE", {{"file_contexts", "/(/.*)? x\n"}}, "SELINUX=disabled\n"},
  };
  for (const Case& c : cases) {
    tree::Tree t = image(labelled, c.policy, c.config);
    t.find("/usr")->xattrs.push_back({"security.selinux", "old"});
    transform(t);
    EXPECT_EQ(label(t, "/file"), std::nullopt) << c.what;
    EXPECT_EQ(label(t, "/usr"), std::nullopt) << c.what;
  }
}

// selabel_breaks_hardlinks_with_different_labels and
// selabel_no_hardlinks_after_labeling_bootable_layout.
TEST(BootTransform, HardLinksWithDifferentLabelsAreSplit) {
  tree::Tree t =
      image(kBootable +
                "/opt 0 40755 2 0 0 0 0.0 - - -\n/usr/bin 0 40755 2 0 0 0 0.0 - - -\n"
                "/usr/bin/foo 5 100644 3 0 0 0 0.0 - hello -\n"
                "/opt/foo 0 @120000 - - - - 0.0 /usr/bin/foo - -\n"
                "/opt/foo2 0 @120000 - - - - 0.0 /usr/bin/foo - -\n"
                "/usr/bin/same 0 @120000 - - - - 0.0 /usr/bin/foo - -\n",
            {{"file_contexts", "/(/.*)?\tdefault_t\n/usr(/.*)?\tusr_t\n/opt(/.*)?\topt_t\n"}});
  transform(t);
  EXPECT_EQ(label(t, "/usr/bin/foo"), "usr_t");
  EXPECT_EQ(label(t, "/usr/bin/same"), "usr_t");
  EXPECT_EQ(label(t, "/opt/foo"), "opt_t");
  EXPECT_EQ(label(t, "/opt/foo2"), "opt_t");
  // Walked depth first with names sorted, /opt/foo comes first and keeps the inode; each later
  // name with another label gets an inode of its own, even two with the same label
  // (composefs-rs clones the leaf for each such name).
  const tree::Node* opt_foo = t.find("/opt/foo")->resolve();
  const tree::Node* opt_foo2 = t.find("/opt/foo2")->resolve();
  const tree::Node* usr_foo = t.find("/usr/bin/foo")->resolve();
  const tree::Node* usr_same = t.find("/usr/bin/same")->resolve();
  EXPECT_NE(opt_foo, usr_foo);
  EXPECT_EQ(opt_foo, opt_foo2);
  EXPECT_NE(usr_foo, usr_same);
  EXPECT_EQ(opt_foo->nlink, 2U);
  EXPECT_EQ(usr_foo->nlink, 1U);
  EXPECT_EQ(usr_same->nlink, 1U);
  EXPECT_EQ(usr_foo->content, "hello");
  writer::write_to_vector(t, {1, 1});  // every alias names a node in the tree
}

TEST(BootTransform, EmptiesBootAndSysrootWithUsrMtime) {
  tree::Tree t = image(
      "/boot 0 40755 2 0 0 0 5.7 - - -\n/boot/vmlinuz 1 100644 2 0 0 0 0.0 - k -\n"
      "/sysroot 0 40755 2 0 0 0 6.8 - - -\n/sysroot/ostree 0 40755 2 0 0 0 0.0 - - -\n"
      "/usr 0 40755 2 0 0 0 1000.123 - - -\n/usr/kernel 0 @120000 - - - - 0.0 /boot/vmlinuz - -\n",
      {}, std::nullopt);
  transform(t);
  EXPECT_TRUE(t.find("/boot")->children.empty());
  EXPECT_TRUE(t.find("/sysroot")->children.empty());
  EXPECT_EQ(t.find("/boot")->mtime_sec, 1000);
  EXPECT_EQ(t.find("/boot")->mtime_nsec, 7U);  // seconds only, as composefs-rs
  EXPECT_EQ(t.find("/sysroot")->mtime_sec, 1000);
  // The inode whose first name was in /boot lives on under its other name (compact()).
  const tree::Node* kernel = t.find("/usr/kernel");
  EXPECT_FALSE(kernel->is_alias());
  EXPECT_EQ(kernel->nlink, 1U);
  EXPECT_EQ(kernel->content, "k");
  writer::write_to_vector(t, {1, 1});
}

TEST(BootTransform, Errors) {
  struct Case {
    std::string what, entries;
    test::PolicyFiles policy;
    std::string error;
  };
  const Case cases[] = {
      {"no /boot",
       "/sysroot 0 40755 2 0 0 0 0.0 - - -\n/usr 0 40755 2 0 0 0 0.0 - - -\n",
       {},
       "cannot make the image bootable: it has no /boot directory"},
      {"no /sysroot",
       "/boot 0 40755 2 0 0 0 0.0 - - -\n/usr 0 40755 2 0 0 0 0.0 - - -\n",
       {},
       "cannot make the image bootable: it has no /sysroot directory"},
      {"no /usr",
       "/boot 0 40755 2 0 0 0 0.0 - - -\n/sysroot 0 40755 2 0 0 0 0.0 - - -\n",
       {},
       "cannot make the image bootable: it has no /usr directory"},
      {"/boot a file",
       "/boot 0 100644 1 0 0 0 0.0 - - -\n/sysroot 0 40755 2 0 0 0 0.0 - - -\n/usr 0 40755 2 0 0 0 "
       "0.0 - - -\n",
       {},
       "cannot make the image bootable: /boot is not a directory"},
      {"no file_contexts",
       kBootable,
       {{"file_contexts.local", "/ x\n"}},
       "Applying SELinux labels to filesystem: SELinux policy targeted is missing its mandatory "
       "file "
       "/etc/selinux/targeted/contexts/files/file_contexts"},
      {"a malformed line",
       kBootable,
       {{"file_contexts", "/ x\n"}, {"file_contexts.local", "\n/a -z x\n"}},
       "Applying SELinux labels to filesystem: "
       "/etc/selinux/targeted/contexts/files/file_contexts.local:2: "
       "invalid file type -z (one of -b -c -d -p -l -s --)"},
  };
  for (const Case& c : cases) {
    tree::Tree t = image(
        c.entries, c.policy,
        c.policy.empty() ? std::nullopt : std::optional<std::string>("SELINUXTYPE=targeted\n"));
    EXPECT_EQ(error_of([&] { transform(t); }), c.error) << c.what;
  }
}

TEST(BootTransform, MissingPolicyDirectoryIsAnError) {
  tree::Tree t = image(kBootable, {}, "SELINUXTYPE=mls\n");
  EXPECT_EQ(error_of([&] { transform(t); }),
            "Applying SELinux labels to filesystem: /etc/selinux/mls not found");
}

}  // namespace
}  // namespace cfs::boot
