// A command given as one string (--param mapper='python3 map.py --lower'),
// cut into argv the way a POSIX shell cuts words, and nothing more: no
// variables, globs, pipes or redirections. Whoever wants a shell says so:
// mapper='sh -c "tr A-Z a-z | cut -f1"'.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <sluice/status.h>

namespace sluice {

// Words separated by blanks (space, tab, newline). Inside '...' every byte is
// literal; inside "..." a backslash escapes only $ ` " \ and newline;
// elsewhere a backslash makes the next byte literal. An unterminated quote,
// a trailing backslash or no word at all is kUsage naming `what`.
Result<std::vector<std::string>> SplitCommandLine(std::string_view line, std::string_view what);

}  // namespace sluice
