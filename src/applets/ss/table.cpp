// ss: the table behind ss's text output. Rows are appended as length-prefixed
// cells into 1 MiB blocks; widths are measured when rendering (one pass), then
// the rows are padded into a 64 KiB chunk that goes to the sink.
#include <algorithm>
#include <cstring>

#include "applets/ss/ss.h"

namespace netshoot::applet::ss {

namespace {

constexpr uint8_t kAltRow = 1;
constexpr uint8_t kHasNote = 2;
constexpr size_t kMaxCell = 0xffff;

uint16_t load_u16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

Table::Table(std::vector<Column> cols) : cols_(std::move(cols)) {}

char* Table::reserve(size_t n) {
  if (blocks_.empty() || kBlock - used_.back() < n) {
    // Uninitialised: pages are touched only as rows fill them.
    blocks_.emplace_back(new char[std::max(kBlock, n)]);
    used_.push_back(0);
  }
  char* p = blocks_.back().get() + used_.back();
  used_.back() += n;
  return p;
}

void Table::row(bool alt) {
  char* f = reserve(1);
  *f = alt ? kAltRow : 0;
  flags_block_ = blocks_.size() - 1;
  flags_off_ = used_.back() - 1;
  ++rows_;
}

void Table::cell(std::string_view text) {
  if (text.size() > kMaxCell) text = text.substr(0, kMaxCell);
  auto len = static_cast<uint16_t>(text.size());
  char* p = reserve(sizeof len + len);
  std::memcpy(p, &len, sizeof len);
  if (len) std::memcpy(p + sizeof len, text.data(), len);
}

void Table::note(std::string_view line) {
  if (rows_ == 0) return;
  blocks_[flags_block_][flags_off_] |= kHasNote;
  cell(line);
}

void Table::append(const Table& other) {
  other.for_each_row([&](uint8_t flags, const std::vector<std::string_view>& cells, std::string_view extra) {
    row(flags & kAltRow);
    for (auto c : cells) cell(c);
    if (flags & kHasNote) note(extra);
  });
}

Table::Mark Table::mark() const { return {blocks_.size(), used_.empty() ? 0 : used_.back(), rows_}; }

void Table::rollback(const Mark& m) {
  blocks_.resize(m.blocks);
  used_.resize(m.blocks);
  if (!used_.empty()) used_.back() = m.used;
  rows_ = m.rows;
}

// f(flags, cells[], note) for every row; cells point into the blocks.
template <typename F>
void Table::for_each_row(F&& f) const {
  const size_t n = cols_.size();
  std::vector<std::string_view> cells(n);
  size_t b = 0, off = 0;
  auto next = [&](size_t want) -> const char* {
    while (b < blocks_.size() && off + want > used_[b]) ++b, off = 0;
    const char* p = blocks_[b].get() + off;
    off += want;
    return p;
  };
  auto take_cell = [&]() -> std::string_view {
    // A cell never straddles blocks: its length prefix and bytes were reserved together.
    while (b < blocks_.size() && off + 2 > used_[b]) ++b, off = 0;
    uint16_t len = load_u16(blocks_[b].get() + off);
    const char* p = blocks_[b].get() + off + 2;
    off += 2 + len;
    return {p, len};
  };
  for (size_t r = 0; r < rows_; ++r) {
    uint8_t flags = static_cast<uint8_t>(*next(1));
    for (size_t c = 0; c < n; ++c) cells[c] = take_cell();
    std::string_view note = (flags & kHasNote) ? take_cell() : std::string_view();
    f(flags, cells, note);
  }
}

void Table::render(const std::vector<const Table*>& tables, const std::function<void(std::string_view)>& sink) {
  if (tables.empty()) return;
  const auto& cols = tables.front()->cols_;
  const size_t n = cols.size();
  std::vector<size_t> w(n);
  for (size_t c = 0; c < n; ++c) w[c] = cols[c].min_width;
  for (const Table* t : tables)
    t->for_each_row([&](uint8_t, const std::vector<std::string_view>& cells, std::string_view) {
      for (size_t c = 0; c < n; ++c) w[c] = std::max(w[c], cells[c].size());
    });
  std::string out;
  constexpr size_t kChunk = 64 * 1024;
  out.reserve(kChunk + 4096);
  for (const Table* t : tables)
    t->for_each_row([&](uint8_t flags, const std::vector<std::string_view>& cells, std::string_view note) {
      for (size_t c = 0; c < n; ++c) {
        size_t pad = w[c] - cells[c].size();
        if (cols[c].right) out.append(pad, ' ');
        out.append(cells[c]);
        if (!cols[c].right) out.append(pad, ' ');
        if (c + 1 < n) {
          char g = (flags & kAltRow) ? cols[c].alt_glue : cols[c].glue;
          if (g) out.push_back(g);
        }
      }
      out.push_back('\n');
      if (flags & kHasNote) {
        out.append(note);
        out.push_back('\n');
      }
      if (out.size() >= kChunk) {
        sink(out);
        out.clear();
      }
    });
  if (!out.empty()) sink(out);
}

std::string Table::render() const {
  std::string all;
  render({this}, [&](std::string_view s) { all.append(s); });
  return all;
}

}  // namespace netshoot::applet::ss
