// gguf::Value helpers and TensorInfo shape utilities.
#include <fmt/format.h>

#include "io/gguf.h"

namespace quorum::gguf {

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::kUint8: return "u8";
    case ValueType::kInt8: return "i8";
    case ValueType::kUint16: return "u16";
    case ValueType::kInt16: return "i16";
    case ValueType::kUint32: return "u32";
    case ValueType::kInt32: return "i32";
    case ValueType::kFloat32: return "f32";
    case ValueType::kBool: return "bool";
    case ValueType::kString: return "string";
    case ValueType::kArray: return "array";
    case ValueType::kUint64: return "u64";
    case ValueType::kInt64: return "i64";
    case ValueType::kFloat64: return "f64";
  }
  return "unknown";
}

Value Value::array(ValueType elem, std::vector<Value> items) {
  Value x;
  x.type = ValueType::kArray;
  x.array_type = elem;
  x.arr = std::move(items);
  return x;
}

Value Value::string_array(const std::vector<std::string>& items) {
  std::vector<Value> v;
  v.reserve(items.size());
  for (const auto& s : items) v.push_back(str(s));
  return array(ValueType::kString, std::move(v));
}

Value Value::f32_array(const std::vector<float>& items) {
  std::vector<Value> v;
  v.reserve(items.size());
  for (float f : items) v.push_back(f32(f));
  return array(ValueType::kFloat32, std::move(v));
}

Value Value::i32_array(const std::vector<int32_t>& items) {
  std::vector<Value> v;
  v.reserve(items.size());
  for (int32_t i : items) v.push_back(i32(i));
  return array(ValueType::kInt32, std::move(v));
}

bool Value::is_integer() const {
  switch (type) {
    case ValueType::kUint8: case ValueType::kInt8: case ValueType::kUint16:
    case ValueType::kInt16: case ValueType::kUint32: case ValueType::kInt32:
    case ValueType::kUint64: case ValueType::kInt64:
      return true;
    default:
      return false;
  }
}

std::optional<int64_t> Value::as_int() const {
  switch (type) {
    case ValueType::kUint8: case ValueType::kUint16: case ValueType::kUint32:
    case ValueType::kUint64: case ValueType::kBool:
      return static_cast<int64_t>(u);
    case ValueType::kInt8: case ValueType::kInt16: case ValueType::kInt32:
    case ValueType::kInt64:
      return i;
    case ValueType::kFloat32: case ValueType::kFloat64:
      return static_cast<int64_t>(f);
    default:
      return std::nullopt;
  }
}

std::optional<double> Value::as_double() const {
  if (is_float()) return f;
  if (auto v = as_int()) return static_cast<double>(*v);
  return std::nullopt;
}

std::string Value::to_display_string(size_t max_items) const {
  switch (type) {
    case ValueType::kString: return s.size() > 80 ? fmt::format("\"{}...\" ({} chars)", s.substr(0, 77), s.size()) : "\"" + s + "\"";
    case ValueType::kBool: return u ? "true" : "false";
    case ValueType::kFloat32: case ValueType::kFloat64: return fmt::format("{}", f);
    case ValueType::kArray: {
      if (arr.size() > max_items) {
        return fmt::format("[{} {}s]", arr.size(), value_type_name(array_type));
      }
      std::string out = "[";
      for (size_t k = 0; k < arr.size(); ++k) {
        if (k) out += ", ";
        out += arr[k].to_display_string(max_items);
      }
      return out + "]";
    }
    default: return fmt::format("{}", *as_int());
  }
}

int64_t TensorInfo::n_elements() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return ne.empty() ? 0 : n;
}

std::string TensorInfo::shape_string() const {
  return fmt::format("[{}]", fmt::join(ne, ", "));
}

}  // namespace quorum::gguf
