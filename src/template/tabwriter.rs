//! Go's text/tabwriter as Docker's formatter configures it (minimum
//! width 10, padding 3, spaces): tab-terminated cells in consecutive lines
//! form a column, as wide as its widest cell plus the padding; the last
//! cell of a line is not aligned.

const MIN_WIDTH: usize = 10;
const PADDING: usize = 3;

pub fn align(text: &str) -> String {
    let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut widths: Vec<Vec<usize>> = lines.iter().map(|l| vec![0; l.len()]).collect();
    columns(&lines, 0, 0, lines.len(), &mut widths);
    let mut out = String::with_capacity(text.len() * 2);
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if j + 1 < line.len() {
                let pad = widths[i][j].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
    }
    out
}

/// Sets the width of column `col` for each block of consecutive lines
/// (within `lo..hi`) that have a terminated cell there, then recurses.
fn columns(lines: &[Vec<&str>], col: usize, lo: usize, hi: usize, widths: &mut [Vec<usize>]) {
    let mut i = lo;
    while i < hi {
        if lines[i].len() - 1 <= col {
            i += 1;
            continue;
        }
        let start = i;
        let mut width = MIN_WIDTH;
        while i < hi && lines[i].len() - 1 > col {
            width = width.max(lines[i][col].chars().count() + PADDING);
            i += 1;
        }
        for w in &mut widths[start..i] {
            w[col] = width;
        }
        columns(lines, col + 1, start, i, widths);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_separately() {
        assert_eq!(
            align("a\tb\nlong-cell-here\tc\n"),
            "a                b\nlong-cell-here   c\n"
        );
        // A line without the column ends the block.
        assert_eq!(
            align("a\tb\nplain\nccccccccccccc\td"),
            "a         b\nplain\nccccccccccccc   d"
        );
    }
}
