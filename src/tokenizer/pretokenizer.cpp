// Pre-tokenizer regex tables and the PCRE2 splitter (see pretokenizer.h).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <fmt/format.h>
#include <pcre2.h>

#include <map>

#include "tokenizer/unicode.h"

namespace quorum::tokenizer {
namespace {

// The regexes as llama.cpp lists them (its adapted forms: case-insensitive contractions spelled
// out as '[sS] etc.).
constexpr const char* kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr const char* kLlama3Regex =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Regex =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kBloomRegex = R"( ?[^(\s|.,!?…。，、।۔،)]+)";

struct NameRow {
  const char* name;
  PreType type;
  bool clean_spaces;
  bool ignore_merges;
  bool add_bos;
};

constexpr NameRow kNames[] = {
    {"default", PreType::kDefault, true, false, false},
    {"llama3", PreType::kLlama3, true, true, true},
    {"llama-v3", PreType::kLlama3, true, true, true},
    {"llama-bpe", PreType::kLlama3, true, true, true},
    {"falcon3", PreType::kLlama3, true, true, true},
    {"deepseek-llm", PreType::kDeepseekLlm, false, false, false},
    {"deepseek-coder", PreType::kDeepseekCoder, false, false, false},
    {"deepseek-v3", PreType::kDeepseek3Llm, false, false, false},
    {"falcon", PreType::kFalcon, true, false, false},
    {"mpt", PreType::kMpt, true, false, false},
    {"starcoder", PreType::kStarcoder, true, false, false},
    {"gpt-2", PreType::kGpt2, true, false, false},
    {"phi-2", PreType::kGpt2, true, false, false},
    {"jina-es", PreType::kGpt2, true, false, false},
    {"jina-de", PreType::kGpt2, true, false, false},
    {"gigachat", PreType::kGpt2, true, false, false},
    {"jina-v1-en", PreType::kGpt2, true, false, false},
    {"jina-v2-es", PreType::kGpt2, true, false, false},
    {"jina-v2-de", PreType::kGpt2, true, false, false},
    {"jina-v2-code", PreType::kGpt2, true, false, false},
    {"roberta-bpe", PreType::kGpt2, true, false, false},
    {"refact", PreType::kRefact, true, false, false},
    {"command-r", PreType::kCommandR, false, false, false},
    {"qwen2", PreType::kQwen2, false, false, false},
    {"deepseek-r1-qwen", PreType::kQwen2, false, false, false},
    {"megrez", PreType::kQwen2, false, false, false},
    {"stablelm2", PreType::kStablelm2, true, false, false},
    {"olmo", PreType::kOlmo, true, false, false},
    {"dbrx", PreType::kDbrx, true, false, false},
    {"smaug-bpe", PreType::kSmaug, true, false, false},
    {"poro-chat", PreType::kPoro, false, false, false},
    {"chatglm-bpe", PreType::kChatglm4, true, false, false},
    {"viking", PreType::kViking, false, false, false},
    {"jais", PreType::kJais, true, false, false},
    {"smollm", PreType::kSmollm, false, false, false},
    {"codeshell", PreType::kCodeshell, true, false, false},
    {"bloom", PreType::kBloom, true, false, false},
    {"gpt3-finnish", PreType::kGpt3Finnish, true, false, false},
    {"exaone", PreType::kExaone, true, false, false},
    {"minerva-7b", PreType::kMinerva, true, false, false},
};

struct CodeDeleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};

}  // namespace

Result<PreInfo> pre_info_from_name(const std::string& name) {
  const std::string key = name.empty() ? "default" : name;
  for (const NameRow& r : kNames) {
    if (key == r.name) return PreInfo{r.type, r.clean_spaces, r.ignore_merges, r.add_bos};
  }
  std::string known;
  for (const NameRow& r : kNames) known += std::string(known.empty() ? "" : ", ") + r.name;
  return Error(ErrorCode::kUnsupported, fmt::format("unknown BPE pre-tokenizer '{}'", name))
      .where("tokenizer.ggml.pre")
      .expected(known)
      .hint("this model's pre-tokenizer is not implemented (llama.cpp also refuses unknown ones)");
}

std::vector<std::string> pre_regexes(PreType type) {
  switch (type) {
    case PreType::kLlama3:
    case PreType::kDbrx:
    case PreType::kSmaug:
    case PreType::kChatglm4:
      return {kLlama3Regex};
    case PreType::kDeepseekLlm:
      return {
          "[\r\n]",
          "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
          "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
          "\\s+$",
          "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
          "\\p{N}+",
      };
    case PreType::kDeepseekCoder:
      return {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}"};
    case PreType::kDeepseek3Llm:
      return {
          "\\p{N}{1,3}",
          "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
          "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
      };
    case PreType::kFalcon:
      return {"[\\p{P}\\$\\+<=>\\^~\\|`]+", kGpt2Regex, "[0-9][0-9][0-9]"};
    case PreType::kStarcoder:
    case PreType::kRefact:
    case PreType::kCommandR:
    case PreType::kSmollm:
    case PreType::kCodeshell:
    case PreType::kExaone:
    case PreType::kMinerva:
      return {"\\p{N}", kGpt2Regex};
    case PreType::kGpt2:
    case PreType::kMpt:
    case PreType::kOlmo:
    case PreType::kJais:
      return {kGpt2Regex};
    case PreType::kStablelm2:
    case PreType::kQwen2:
      return {kQwen2Regex};
    case PreType::kPoro:
    case PreType::kBloom:
    case PreType::kGpt3Finnish:
      return {kBloomRegex};
    case PreType::kViking:
      return {kBloomRegex, "\\p{N}"};
    case PreType::kDefault:
    default:
      return {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2Regex, "\\p{N}+", "[0-9][0-9][0-9]"};
  }
}

struct RegexSplitter::Impl {
  std::vector<std::unique_ptr<pcre2_code, CodeDeleter>> codes;
};

RegexSplitter::RegexSplitter() : impl_(std::make_unique<Impl>()) {}
RegexSplitter::RegexSplitter(RegexSplitter&&) noexcept = default;
RegexSplitter& RegexSplitter::operator=(RegexSplitter&&) noexcept = default;
RegexSplitter::~RegexSplitter() = default;

Result<RegexSplitter> RegexSplitter::create(const std::vector<std::string>& patterns) {
  RegexSplitter s;
  for (const std::string& p : patterns) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    // DOLLAR_ENDONLY: `$` means the end of the piece only, as in ECMAScript regexes.
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &err_off,
                                     nullptr);
    if (code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      return Error(ErrorCode::kInternal, "pre-tokenizer regex does not compile")
          .where(fmt::format("pattern '{}' at offset {}", p, err_off))
          .actual(reinterpret_cast<const char*>(msg));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT fails
    s.impl_->codes.emplace_back(code);
  }
  return s;
}

std::vector<std::string> RegexSplitter::split(std::string_view text) const {
  const std::vector<uint32_t> cpts = utf8_to_cpts(text);
  // The subject the regexes see: valid UTF-8, non-ASCII whitespace as U+000B.
  // cpt_at_byte[b] = index of the code point starting at subject byte b (size: bytes + 1).
  std::string subject;
  subject.reserve(text.size());
  std::vector<uint32_t> byte_of_cpt(cpts.size() + 1);
  for (size_t i = 0; i < cpts.size(); ++i) {
    byte_of_cpt[i] = static_cast<uint32_t>(subject.size());
    uint32_t c = cpts[i];
    if (c >= 0x80 && is_unicode_whitespace(c)) c = 0x0B;
    if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) c = kReplacementChar;
    append_utf8(subject, c);
  }
  byte_of_cpt[cpts.size()] = static_cast<uint32_t>(subject.size());
  std::vector<uint32_t> cpt_at_byte(subject.size() + 1, 0);
  for (size_t i = 0; i <= cpts.size(); ++i) cpt_at_byte[byte_of_cpt[i]] = static_cast<uint32_t>(i);

  // Piece lengths in code points.
  std::vector<size_t> offsets = {cpts.size()};
  std::vector<size_t> next;
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
  pcre2_match_context* mctx = pcre2_match_context_create(nullptr);
  if (jit_stack != nullptr && mctx != nullptr) pcre2_jit_stack_assign(mctx, nullptr, jit_stack);
  for (const auto& code : impl_->codes) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code.get(), nullptr);
    next.clear();
    next.reserve(offsets.size() * 2);
    size_t start = 0;  // code point index of the current piece
    for (size_t len : offsets) {
      const size_t b0 = byte_of_cpt[start];
      const size_t b1 = byte_of_cpt[start + len];
      const auto* piece = reinterpret_cast<PCRE2_SPTR>(subject.data() + b0);
      const size_t piece_bytes = b1 - b0;
      size_t pos = 0;       // byte position inside the piece where the search resumes
      size_t emitted = 0;   // byte position up to which pieces were emitted
      while (pos <= piece_bytes) {
        const int rc = pcre2_match(code.get(), piece, piece_bytes, pos, PCRE2_NO_UTF_CHECK, md,
                                   mctx);
        if (rc < 0) break;  // no match (or a resource limit): the rest is one gap
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t ms = ov[0], me = ov[1];
        if (me == ms) {  // empty match: step one character and search again
          if (ms >= piece_bytes) break;
          pos = ms + utf8_len(static_cast<char>(piece[ms]));
          continue;
        }
        if (ms > emitted) next.push_back(cpt_at_byte[b0 + ms] - cpt_at_byte[b0 + emitted]);
        next.push_back(cpt_at_byte[b0 + me] - cpt_at_byte[b0 + ms]);
        emitted = me;
        pos = me;
      }
      if (emitted < piece_bytes) next.push_back(cpt_at_byte[b1] - cpt_at_byte[b0 + emitted]);
      start += len;
    }
    pcre2_match_data_free(md);
    offsets.swap(next);
  }
  if (mctx != nullptr) pcre2_match_context_free(mctx);
  if (jit_stack != nullptr) pcre2_jit_stack_free(jit_stack);

  std::vector<std::string> words;
  words.reserve(offsets.size());
  size_t start = 0;
  for (size_t len : offsets) {
    std::string w;
    for (size_t i = start; i < start + len; ++i) append_utf8(w, cpts[i]);
    words.push_back(std::move(w));
    start += len;
  }
  return words;
}

}  // namespace quorum::tokenizer
