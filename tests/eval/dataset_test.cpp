// Dataset loaders and prompts against the shipped files: loading the ORIGINAL formats (CARER,
// SST-2 tsv, SQuAD json, SAMSum json/csv) and filling the PROMPTS.md templates must reproduce the
// task models' JSONL rows (id, fields, references, prompt, target) exactly.
#include "eval/dataset.h"

#include <gtest/gtest.h>

#include <fstream>

#include "eval/prompt.h"
#include "testing/shared_data.h"

namespace quorum::eval {
namespace {

using quorum::testing::shared_path;

Dataset load(const std::string& task, const std::string& rel, DatasetFormat format, Split split) {
  LoadOptions o;
  o.format = format;
  o.split = split;
  auto ds = load_dataset(find_task(task).value(), shared_path(rel), o);
  EXPECT_TRUE(ds.is_ok()) << ds.status().to_string();
  return ds.is_ok() ? std::move(ds).value() : Dataset{};
}

// Every JSONL row's stored prompt equals our template filled from its fields.
TEST(Dataset, TemplatesReproduceEveryShippedPrompt) {
  for (const char* task : {"emotion", "sst2", "squad", "samsum"}) {
    for (const char* split : {"validation", "test"}) {
      Dataset ds = load(task, std::string("taskmodels/data/") + task + "_" + split + ".jsonl",
                        DatasetFormat::kTaskModelJsonl, parse_split(split).value());
      ASSERT_FALSE(ds.items.empty()) << task << " " << split;
      size_t bad = 0;
      for (const Item& it : ds.items) {
        auto p = zero_shot_prompt(find_task(task).value(), it);
        ASSERT_TRUE(p.is_ok()) << p.status().to_string();
        if (*p != it.prompt) ++bad;
        EXPECT_FALSE(it.references.empty());
      }
      EXPECT_EQ(bad, 0u) << task << " " << split;
    }
  }
}

TEST(Dataset, SplitSizesMatchTheReadme) {
  EXPECT_EQ(load("sst2", "taskmodels/data/sst2_test.jsonl", DatasetFormat::kTaskModelJsonl, Split::kTest).items.size(), 872u);
  EXPECT_EQ(load("sst2", "taskmodels/data/sst2_validation.jsonl", DatasetFormat::kTaskModelJsonl, Split::kValidation).items.size(), 300u);
  EXPECT_EQ(load("emotion", "taskmodels/data/emotion_test.jsonl", DatasetFormat::kTaskModelJsonl, Split::kTest).items.size(), 2000u);
  EXPECT_EQ(load("squad", "taskmodels/data/squad_test.jsonl", DatasetFormat::kTaskModelJsonl, Split::kTest).items.size(), 1589u);
  EXPECT_EQ(load("samsum", "taskmodels/data/samsum_test.jsonl", DatasetFormat::kTaskModelJsonl, Split::kTest).items.size(), 819u);
  EXPECT_EQ(load("samsum", "taskmodels/data/samsum_validation.jsonl", DatasetFormat::kTaskModelJsonl, Split::kValidation).items.size(), 200u);
}

void expect_same_rows(const Dataset& original, const Dataset& jsonl, bool compare_ids) {
  ASSERT_EQ(original.items.size(), jsonl.items.size());
  for (size_t i = 0; i < jsonl.items.size(); ++i) {
    const Item& a = original.items[i];
    const Item& b = jsonl.items[i];
    if (compare_ids) {
      EXPECT_EQ(a.id, b.id);
    }
    EXPECT_EQ(a.prompt, b.prompt) << b.id;
    EXPECT_EQ(a.target, b.target) << b.id;
    EXPECT_EQ(a.references, b.references) << b.id;
    if (::testing::Test::HasFailure()) return;  // one row is enough to diagnose
  }
}

TEST(Dataset, OriginalCarerMatchesTaskModelRows) {
  expect_same_rows(load("emotion", "data/carer_emotion/test.txt", DatasetFormat::kCarer, Split::kTest),
                   load("emotion", "taskmodels/data/emotion_test.jsonl", DatasetFormat::kTaskModelJsonl, Split::kTest), false);
}

TEST(Dataset, OriginalSst2DevMatchesTaskModelTestRows) {
  Dataset tsv = load("sst2", "data/sst2/dev.tsv", DatasetFormat::kSst2Tsv, Split::kTest);
  expect_same_rows(tsv, load("sst2", "taskmodels/data/sst2_test.jsonl", DatasetFormat::kTaskModelJsonl, Split::kTest), false);
  // GLUE's unlabeled test file loads without references.
  Dataset unlabeled = load("sst2", "data/sst2/test.tsv", DatasetFormat::kSst2Tsv, Split::kTest);
  EXPECT_EQ(unlabeled.items.size(), 1821u);
  EXPECT_TRUE(unlabeled.items[0].references.empty());
}

TEST(Dataset, OriginalSamsumJsonAndCsvMatchTaskModelRows) {
  Dataset jsonl = load("samsum", "taskmodels/data/samsum_test.jsonl", DatasetFormat::kTaskModelJsonl, Split::kTest);
  expect_same_rows(load("samsum", "data/samsum/test.json", DatasetFormat::kSamsumJson, Split::kTest), jsonl, true);
  expect_same_rows(load("samsum", "data/samsum/samsum-test.csv", DatasetFormat::kSamsumCsv, Split::kTest), jsonl, true);
}

TEST(Dataset, OriginalSquadMatchesTaskModelRows) {
  Dataset all = load("squad", "data/squad_v1.1/dev-v1.1.json", DatasetFormat::kSquadJson, Split::kTest);
  EXPECT_EQ(all.items.size(), 10570u);
  // The task models' test split is articles 40-47 in file order.
  Dataset test;
  for (const Item& it : all.items) {
    int a = std::stoi(it.fields.at("article_index"));
    if (a >= 40 && a <= 47) test.items.push_back(it);
  }
  expect_same_rows(test, load("squad", "taskmodels/data/squad_test.jsonl", DatasetFormat::kTaskModelJsonl, Split::kTest), true);
}

TEST(Dataset, GenericJsonlWithFieldMapping) {
  const std::string dir = quorum::testing::temp_dir("jsonl");
  {
    std::ofstream f(dir + "/reviews.jsonl");
    f << "{\"uid\": 7, \"review\": \"great fun\", \"y\": 1}\n\n{\"uid\": 8, \"review\": \"dull\", \"y\": 0}\n";
  }
  LoadOptions o;
  o.format = DatasetFormat::kJsonl;
  o.mapping.id = "uid";
  o.mapping.references = "y";
  o.mapping.label_values = {{"1", "positive"}, {"0", "negative"}};
  o.mapping.fields = {{"sentence", "review"}};
  auto ds = load_dataset(find_task("sst2").value(), dir + "/reviews.jsonl", o);
  ASSERT_TRUE(ds.is_ok()) << ds.status().to_string();
  ASSERT_EQ(ds->items.size(), 2u);
  EXPECT_EQ(ds->items[0].id, "7");
  EXPECT_EQ(ds->items[0].prompt, "Task: sentiment\nText: great fun\nAnswer:");
  EXPECT_EQ(ds->items[1].references, std::vector<std::string>{"negative"});
  EXPECT_EQ(ds->items[1].target, " negative");
  // A missing mapped key names the key and the line.
  {
    std::ofstream f(dir + "/bad.jsonl");
    f << "{\"uid\": 1, \"text\": \"x\", \"y\": 1}\n";
  }
  auto bad = load_dataset(find_task("sst2").value(), dir + "/bad.jsonl", o);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("review"), std::string::npos);
  EXPECT_NE(bad.status().message().find("bad.jsonl:1"), std::string::npos);
}

TEST(Dataset, MalformedFilesAreClearErrors) {
  const std::string dir = quorum::testing::temp_dir("bad");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  LoadOptions carer;
  carer.format = DatasetFormat::kCarer;
  auto r = load_dataset(find_task("emotion").value(), write("c.txt", "happy day;joy\nno label here\n"), carer);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("c.txt:2"), std::string::npos);
  r = load_dataset(find_task("emotion").value(), write("c2.txt", "x;boredom\n"), carer);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("boredom"), std::string::npos);
  LoadOptions jl;
  r = load_dataset(find_task("sst2").value(), write("j.jsonl", "{\"id\": \"a\", \"sentence\": \"x\"\n"), jl);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("j.jsonl:1"), std::string::npos);
  LoadOptions sq;
  sq.format = DatasetFormat::kSquadJson;
  EXPECT_FALSE(load_dataset(find_task("squad").value(), write("s.json", "{\"data\": [{}]}"), sq).is_ok());
  LoadOptions csv;
  csv.format = DatasetFormat::kSamsumCsv;
  EXPECT_FALSE(load_dataset(find_task("samsum").value(), write("s.csv", "id,dialogue,summary\n1,\"open"), csv).is_ok());
  EXPECT_FALSE(load_dataset(find_task("sst2").value(), dir + "/missing.jsonl", jl).is_ok());
  EXPECT_FALSE(parse_dataset_format("parquet").is_ok());
}

TEST(Dataset, UnknownLabelsFailOrAreSkippedAndListed) {
  const std::string dir = quorum::testing::temp_dir("skip");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name) << text;
    return dir + "/" + name;
  };
  const std::string carer_path = write("c.txt", "a;joy\nb;boredom\nc;anger\nd;joy\n");
  const std::string tsv_path = write("s.tsv", "sentence\tlabel\ngood\t1\nmeh\t2\nbad\t0\n");
  const std::string jl_path = write("j.jsonl",
                                    "{\"id\": \"a\", \"sentence\": \"x\", \"answers\": [\"positive\"]}\n"
                                    "{\"id\": \"b\", \"sentence\": \"y\", \"answers\": [\"neutral\"]}\n");
  LoadOptions carer;
  carer.format = DatasetFormat::kCarer;
  LoadOptions tsv;
  tsv.format = DatasetFormat::kSst2Tsv;
  LoadOptions jl;
  // Strict (the default): the first unknown label fails the load, naming file, line and label.
  auto r = load_dataset(find_task("emotion").value(), carer_path, carer);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("c.txt:2"), std::string::npos) << r.status().to_string();
  EXPECT_NE(r.status().message().find("'boredom'"), std::string::npos);
  // Skipping: the row is left out and listed; the limit counts kept items.
  carer.skip_unknown_labels = tsv.skip_unknown_labels = jl.skip_unknown_labels = true;
  carer.limit = 2;
  r = load_dataset(find_task("emotion").value(), carer_path, carer);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_EQ(r->items[0].fields.at("text"), "a");
  EXPECT_EQ(r->items[1].fields.at("text"), "c");
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].where, carer_path + ":2");
  EXPECT_NE(r->skipped[0].error.find("'boredom'"), std::string::npos);
  r = load_dataset(find_task("sst2").value(), tsv_path, tsv);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_EQ(r->items[1].references, std::vector<std::string>{"negative"});
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].where, tsv_path + ":3");
  r = load_dataset(find_task("sst2").value(), jl_path, jl);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->items.size(), 1u);
  ASSERT_EQ(r->skipped.size(), 1u);
  EXPECT_EQ(r->skipped[0].id, "b");
  // A file with no usable row is still an error.
  auto none = load_dataset(find_task("sst2").value(), write("n.jsonl", "{\"id\": \"b\", \"sentence\": \"y\", \"answers\": [\"joy\"]}\n"), jl);
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("all 1 rows"), std::string::npos) << none.status().to_string();
}

TEST(Prompt, FillFewShotAndErrors) {
  TaskSpec sst2 = find_task("sst2").value();
  Item shot;
  shot.id = "s";
  shot.fields = {{"sentence", "good"}};
  shot.target = " positive";
  Item q;
  q.id = "q";
  q.fields = {{"sentence", "bad {x}"}};  // braces in a value are inserted verbatim
  auto p = few_shot_prompt(sst2, q, {shot});
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(*p, "Task: sentiment\nText: good\nAnswer: positive\n\nTask: sentiment\nText: bad {x}\nAnswer:");
  EXPECT_EQ(fill_template("{{a}} {a}", {{"a", "1"}}).value(), "{a} 1");
  auto missing = fill_template("Text: {sentence}", {{"text", "x"}});
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("{sentence}"), std::string::npos);
  EXPECT_FALSE(fill_template("oops {", {}).is_ok());
}

TEST(Prompt, AnswerParsing) {
  TaskSpec emo = find_task("emotion").value();
  EXPECT_EQ(parse_answer(emo, " joy").text, "joy");
  EXPECT_EQ(parse_answer(emo, " joy\nTask: emotion").text, "joy");  // cut at the first newline
  EXPECT_FALSE(parse_answer(emo, " Joy", LabelMatch::kExact).parsed);
  EXPECT_EQ(parse_answer(emo, " Joy", LabelMatch::kCaseInsensitive).text, "joy");
  EXPECT_FALSE(parse_answer(emo, "I feel FEAR.", LabelMatch::kCaseInsensitive).parsed);
  EXPECT_EQ(parse_answer(emo, "I feel FEAR.").text, "fear");
  EXPECT_FALSE(parse_answer(emo, "joyful").parsed);  // whole words only
  EXPECT_FALSE(parse_answer(emo, "\njoy").parsed);    // empty first line
  TaskSpec sst2 = find_task("sst2").value();
  EXPECT_FALSE(parse_answer(sst2, " joy").parsed);  // qt-emo on SST-2: unparseable
  TaskSpec squad = find_task("squad").value();
  ParsedAnswer a = parse_answer(squad, "  Denver Broncos \n extra");
  EXPECT_TRUE(a.parsed);
  EXPECT_EQ(a.text, "Denver Broncos");
  EXPECT_FALSE(parse_answer(squad, " \n").parsed);
}

}  // namespace
}  // namespace quorum::eval
