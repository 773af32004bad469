#include "runtime/cli/job_flag_parser.h"

#include <algorithm>
#include <utility>

#include <CLI/CLI.hpp>

#include "runtime/cli/job_flags.h"

namespace sluice {
namespace {

const JobFlag* FindFlag(const std::string& name) {
  for (const JobFlag& flag : JobFlags()) {
    if (flag.name == name || (!flag.short_name.empty() && flag.short_name == name)) return &flag;
  }
  return nullptr;
}

// CLI11 reads `--flag=` (an empty value) as `--flag` and takes the next
// argument as its value instead; `--scratch= in out` must not quietly mean
// `--scratch in`. As two arguments, the empty one is the value.
std::vector<std::string> SplitEmptyValues(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  bool flags_ended = false;
  for (const std::string& arg : args) {
    flags_ended = flags_ended || arg == "--";
    const JobFlag* flag = nullptr;
    if (!flags_ended && arg.size() > 3 && arg.rfind("--", 0) == 0 && arg.back() == '=') {
      flag = FindFlag(arg.substr(0, arg.size() - 1));
    }
    if (flag != nullptr && !flag->value_name.empty()) {
      out.push_back(std::string(flag->name));
      out.emplace_back();
    } else {
      out.push_back(arg);
    }
  }
  return out;
}

// CLI11 says "--partitions: 1 required TEXT missing"; we say which flag in
// our own words, as every other usage error does.
Status FromCli11(const CLI::ParseError& e) {
  const std::string what = e.what();
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    const std::string name = what.substr(0, what.find(':'));
    if (const JobFlag* flag = FindFlag(name); flag != nullptr && !flag->value_name.empty()) {
      return Status::Usage("flag " + name + " needs a value");
    }
  }
  return Status::Usage(what);
}

}  // namespace

Status ParseJobFlags(const std::vector<std::string>& args, JobConfig* config,
                     std::vector<std::string>* positional, bool* help) {
  CLI::App app;
  app.set_help_flag();  // --help is a row of the table like any other
  // Unknown flags and positional arguments both come back from remaining(),
  // in command-line order, to be told apart below with our messages.
  app.allow_extras();
  std::vector<std::pair<const JobFlag*, CLI::Option*>> options;
  for (const JobFlag& flag : JobFlags()) {
    std::string names(flag.name);
    if (!flag.short_name.empty()) names += "," + std::string(flag.short_name);
    CLI::Option* option = flag.value_name.empty() ? app.add_flag(names) : app.add_option(names);
    option->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    options.emplace_back(&flag, option);
  }
  std::vector<std::string> reversed = SplitEmptyValues(args);
  std::reverse(reversed.begin(), reversed.end());  // as CLI::App::parse wants them
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return FromCli11(e);
  }

  bool flags_ended = false;
  for (const std::string& arg : app.remaining()) {
    if (!flags_ended && arg == "--") {
      flags_ended = true;
    } else if (!flags_ended && arg.rfind("--", 0) == 0) {
      return Status::Usage("unknown flag '" + arg.substr(0, arg.find('=')) + "' (see --help)");
    } else {
      positional->push_back(arg);  // "-" and "-x" too, as paths
    }
  }
  for (const auto& [flag, option] : options) {
    if (flag->apply == nullptr) {
      *help = *help || option->count() > 0;
      continue;
    }
    for (const std::string& value : option->results()) {
      SLUICE_RETURN_IF_ERROR(flag->apply(std::string(flag->name), value, config));
    }
  }
  return Status::OK();
}

}  // namespace sluice
