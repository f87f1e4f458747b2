#include "cli/dns01_hook.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace certsmith::cli {

namespace {

bool DroppedFromHookEnv(std::string_view entry) {
  for (std::string_view name :
       {"CERTSMITH_EAB_HMAC_KEY=", "CERTSMITH_HOOK_ACTION=", "CERTSMITH_DOMAIN=",
        "CERTSMITH_RECORD_NAME=", "CERTSMITH_TXT_VALUE="}) {
    if (entry.substr(0, name.size()) == name) return true;
  }
  return false;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::vector<std::string> HookArgv(const HookCall& call) {
  // sh -c 'CMD "$@"' certsmith-dns01-hook <action> <name> <value>: CMD keeps its own words and
  // our arguments arrive unsplit.
  return {"/bin/sh",
          "-c",
          call.command + " \"$@\"",
          "certsmith-dns01-hook",
          call.action,
          call.record_name,
          call.txt_value};
}

std::vector<std::string> HookEnvironment(const HookCall& call, char** base_environ) {
  std::vector<std::string> env;
  for (char** e = base_environ; e != nullptr && *e != nullptr; ++e) {
    if (!DroppedFromHookEnv(*e)) env.emplace_back(*e);
  }
  env.push_back("CERTSMITH_HOOK_ACTION=" + call.action);
  env.push_back("CERTSMITH_DOMAIN=" + call.domain);
  env.push_back("CERTSMITH_RECORD_NAME=" + call.record_name);
  env.push_back("CERTSMITH_TXT_VALUE=" + call.txt_value);
  return env;
}

Status RunHook(const HookCall& call) {
  std::vector<std::string> argv = HookArgv(call);
  std::vector<std::string> envp = HookEnvironment(call, environ);
  std::vector<char*> argv_ptrs = Pointers(argv);
  std::vector<char*> env_ptrs = Pointers(envp);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv_ptrs.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return Status(ErrorCode::kFailedPrecondition,
                  "cannot run the dns-01 hook: " + std::string(std::strerror(rc)));
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) {
      return Status(ErrorCode::kInternal, "waiting for the dns-01 hook failed");
    }
  }
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) return Status::Ok();
  std::string how = WIFEXITED(wstatus)
                        ? "exited with status " + std::to_string(WEXITSTATUS(wstatus))
                        : "was killed by signal " + std::to_string(WTERMSIG(wstatus));
  return Status(ErrorCode::kFailedPrecondition, "the dns-01 hook `" + call.command + " " +
                                                    call.action + " " + call.record_name +
                                                    " ...` " + how);
}

}  // namespace certsmith::cli
