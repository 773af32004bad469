#include <sluice/text_output.h>

#include <gtest/gtest.h>

namespace sluice {
namespace {

template <class T>
std::string Text(const T& v) {
  std::string s;
  AppendText(&s, v);
  return s;
}

TEST(AppendText, FormatsPlainTypes) {
  EXPECT_EQ(Text(std::string("abc")), "abc");
  EXPECT_EQ(Text(std::string_view("x y")), "x y");
  EXPECT_EQ(Text(uint64_t{18446744073709551615u}), "18446744073709551615");
  EXPECT_EQ(Text(-42), "-42");
  EXPECT_EQ(Text(0.1), "0.1");  // shortest form that reads back exactly
  EXPECT_EQ(Text(true), "true");
  EXPECT_EQ(Text(std::make_pair(std::string("k"), 3)), "k\t3");
  EXPECT_EQ(Text(std::make_tuple(1, 2.5, std::string("z"))), "1\t2.5\tz");
}

}  // namespace
}  // namespace sluice
