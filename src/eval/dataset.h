// Dataset loaders: the task models' JSONL splits, the original formats and a generic JSONL with
// a field mapping. Every loader returns Items with id, task, fields, references, prompt (the
// task's zero-shot template filled from the fields, or the row's own `prompt` when it has one)
// and target, in file order. Malformed input is an error naming the file and line/row.
//
// Formats (shared/data/README.md, shared/taskmodels/README.md):
// - task-model JSONL: `id`, `task`, the task's fields, `answers` (all references), `prompt`,
//   `target`. Other scalar keys (label, title, article_index, ...) are kept as fields.
// - CARER: one `text;label` per line (split at the last ';').
// - SST-2: TSV with a header; `sentence<TAB>label` (label 1 = positive); the sentence is stripped.
//   GLUE's unlabeled test file (`index<TAB>sentence`) loads with no references.
// - SQuAD v1.1 json: data[].paragraphs[].qas[]; references are all answer texts.
// - SAMSum json (array of {id, dialogue, summary}) or csv (id,dialogue,summary; quoted fields may
//   span lines); "\r\n" in dialogues becomes "\n"; target = " " + the summary with whitespace
//   collapsed, reference = the summary as given; ids become "samsum-<id>".
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/task.h"

namespace quorum::eval {

enum class DatasetFormat {
  kTaskModelJsonl,  // shared/taskmodels/data/*.jsonl
  kCarer,           // text;label
  kSst2Tsv,
  kSquadJson,
  kSamsumJson,
  kSamsumCsv,
  kJsonl,           // generic JSONL with a FieldMapping
};

Result<DatasetFormat> parse_dataset_format(const std::string& name);

// How a generic JSONL row maps to an Item.
struct FieldMapping {
  std::string id;  // key of the id; empty = "<task>-<split>-<row>"
  // key of the reference(s): a string or a list of strings (or a number, kept as text).
  std::string references = "answers";
  // Label values as written in the file -> task labels (e.g. "0" -> "negative"); empty = as is.
  std::map<std::string, std::string> label_values;
  // Item field name -> key in the row (e.g. "sentence" -> "review"); unlisted template fields are
  // read under their own name.
  std::map<std::string, std::string> fields;
};

struct LoadOptions {
  DatasetFormat format = DatasetFormat::kTaskModelJsonl;
  Split split = Split::kTest;
  size_t limit = 0;     // keep only the first `limit` items (0 = all)
  FieldMapping mapping;  // kJsonl only
  // A classification row whose gold label is not one of the task's labels: false = the load
  // fails with an error naming file, line and label; true = the row is left out and listed in
  // Dataset::skipped with that error (the limit counts the kept items).
  bool skip_unknown_labels = false;
};

// Loads one split of `task` from `path`.
Result<Dataset> load_dataset(const TaskSpec& task, const std::string& path, const LoadOptions& options);

}  // namespace quorum::eval
