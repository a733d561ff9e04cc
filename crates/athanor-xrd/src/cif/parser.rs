//! CIF data model and parser: a file is a list of data blocks; a block holds tag–value pairs and
//! loops (tables). Tags are looked up case-insensitively, as CIF requires.

use std::collections::HashMap;

use super::lexer::{tokenize, Token, Value};
use super::CifError;

/// A parsed CIF: its data blocks in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct CifFile {
    pub blocks: Vec<DataBlock>,
}

/// A `loop_`: column tags and rows of values.
#[derive(Debug, Clone, PartialEq)]
pub struct Loop {
    /// Column tags as written.
    pub tags: Vec<String>,
    /// Rows; every row has one value per tag.
    pub rows: Vec<Vec<Value>>,
    /// Line of the `loop_` keyword.
    pub line: usize,
}

impl Loop {
    /// Column index of a tag (case-insensitive).
    pub fn column(&self, tag: &str) -> Option<usize> {
        self.tags.iter().position(|t| t.eq_ignore_ascii_case(tag))
    }
}

/// Where a tag's value lives inside a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Pair(usize),
    Loop { index: usize, column: usize },
}

/// One `data_` block (or save frame): single-valued items and loops.
#[derive(Debug, Clone, PartialEq)]
pub struct DataBlock {
    /// The block code after `data_`.
    pub name: String,
    /// Line of the `data_` keyword.
    pub line: usize,
    /// Single-valued items in file order.
    pub pairs: Vec<(String, Value)>,
    /// Loops in file order.
    pub loops: Vec<Loop>,
    /// Save frames inside the block (dictionary files use them; structure CIFs rarely do).
    pub frames: Vec<DataBlock>,
    index: HashMap<String, Slot>,
}

impl DataBlock {
    fn new(name: String, line: usize) -> Self {
        Self {
            name,
            line,
            pairs: Vec::new(),
            loops: Vec::new(),
            frames: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// The single value of a tag: a tag–value pair, or a loop column with exactly one row.
    pub fn value(&self, tag: &str) -> Option<&Value> {
        match self.index.get(&tag.to_ascii_lowercase())? {
            Slot::Pair(i) => self.pairs.get(*i).map(|(_, v)| v),
            Slot::Loop { index, column } => {
                let lp = self.loops.get(*index)?;
                match lp.rows.as_slice() {
                    [row] => row.get(*column),
                    _ => None,
                }
            }
        }
    }

    /// The first of several alternative tags that has a value other than `?` / `.`.
    pub fn first_value(&self, tags: &[&str]) -> Option<&Value> {
        tags.iter()
            .filter_map(|t| self.value(t))
            .find(|v| !v.is_missing())
    }

    /// The loop that holds a tag and the tag's column in it.
    pub fn loop_of(&self, tag: &str) -> Option<(&Loop, usize)> {
        match self.index.get(&tag.to_ascii_lowercase())? {
            Slot::Loop { index, column } => self.loops.get(*index).map(|l| (l, *column)),
            Slot::Pair(_) => None,
        }
    }

    /// All values of a tag: the column of its loop, or its single value.
    pub fn values(&self, tag: &str) -> Vec<&Value> {
        match self.index.get(&tag.to_ascii_lowercase()) {
            Some(Slot::Pair(i)) => self.pairs.get(*i).map(|(_, v)| v).into_iter().collect(),
            Some(Slot::Loop { index, column }) => self
                .loops
                .get(*index)
                .map(|l| l.rows.iter().filter_map(|r| r.get(*column)).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// Whether the block has this tag at all.
    pub fn has(&self, tag: &str) -> bool {
        self.index.contains_key(&tag.to_ascii_lowercase())
    }

    fn push_pair(&mut self, tag: String, value: Value) {
        self.index
            .insert(tag.to_ascii_lowercase(), Slot::Pair(self.pairs.len()));
        self.pairs.push((tag, value));
    }

    fn push_loop(&mut self, lp: Loop) {
        let index = self.loops.len();
        for (column, tag) in lp.tags.iter().enumerate() {
            self.index
                .insert(tag.to_ascii_lowercase(), Slot::Loop { index, column });
        }
        self.loops.push(lp);
    }
}

/// Parses CIF text into blocks. Every syntax error names its line and what was expected.
pub fn parse(text: &str) -> Result<CifFile, CifError> {
    let tokens = tokenize(text)?;
    let mut blocks: Vec<DataBlock> = Vec::new();
    let mut frame: Option<DataBlock> = None;
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        match token {
            Token::DataBlock { name, line } => {
                if let Some(open) = frame.take() {
                    return Err(CifError::Syntax {
                        line: *line,
                        message: format!(
                            "save frame 'save_{}' opened on line {} is not closed (expected 'save_' before the next data_ block)",
                            open.name, open.line
                        ),
                    });
                }
                blocks.push(DataBlock::new(name.clone(), *line));
                i += 1;
            }
            Token::Save { name, line } => {
                let block = blocks.last_mut().ok_or_else(|| before_block(*line))?;
                match (frame.take(), name.is_empty()) {
                    (None, false) => frame = Some(DataBlock::new(name.clone(), *line)),
                    (Some(done), true) => block.frames.push(done),
                    (None, true) => {
                        return Err(CifError::Syntax {
                            line: *line,
                            message: "'save_' closes a save frame, but none is open".into(),
                        })
                    }
                    (Some(open), false) => {
                        return Err(CifError::Syntax {
                            line: *line,
                            message: format!(
                                "save frames cannot nest: 'save_{}' opened on line {} is still open (expected 'save_')",
                                open.name, open.line
                            ),
                        })
                    }
                }
                i += 1;
            }
            Token::Reserved { word, line } => {
                return Err(CifError::Syntax {
                    line: *line,
                    message: format!("'{word}' is a STAR reserved word that CIF does not allow"),
                })
            }
            Token::Tag { name, line } => {
                let target = match frame.as_mut() {
                    Some(f) => f,
                    None => blocks.last_mut().ok_or_else(|| before_block(*line))?,
                };
                match tokens.get(i + 1) {
                    Some(Token::Value(v)) => {
                        target.push_pair(name.clone(), v.clone());
                        i += 2;
                    }
                    other => {
                        return Err(CifError::Syntax {
                            line: other.map_or(*line, Token::line),
                            message: format!(
                                "expected a value for tag {name} (line {line}), found {}",
                                describe(other)
                            ),
                        })
                    }
                }
            }
            Token::Loop { line } => {
                let target = match frame.as_mut() {
                    Some(f) => f,
                    None => blocks.last_mut().ok_or_else(|| before_block(*line))?,
                };
                let (lp, next) = parse_loop(&tokens, i)?;
                target.push_loop(lp);
                i = next;
            }
            Token::Value(v) => {
                if blocks.is_empty() {
                    return Err(before_block(v.line));
                }
                return Err(CifError::Syntax {
                    line: v.line,
                    message: format!(
                        "unexpected value '{}' (expected a tag, loop_ or data_)",
                        shorten(&v.text)
                    ),
                });
            }
        }
    }
    if let Some(open) = frame {
        return Err(CifError::Syntax {
            line: open.line,
            message: format!(
                "save frame 'save_{}' is not closed (expected 'save_' before the end of the file)",
                open.name
            ),
        });
    }
    Ok(CifFile { blocks })
}

/// Parses `loop_` at `tokens[start]`; returns the loop and the index after it.
fn parse_loop(tokens: &[Token], start: usize) -> Result<(Loop, usize), CifError> {
    let loop_line = tokens[start].line();
    let mut i = start + 1;
    let mut tags = Vec::new();
    while let Some(Token::Tag { name, .. }) = tokens.get(i) {
        tags.push(name.clone());
        i += 1;
    }
    if tags.is_empty() {
        return Err(CifError::Syntax {
            line: tokens.get(i).map_or(loop_line, Token::line),
            message: format!(
                "loop_ on line {loop_line} has no column tags (expected at least one tag after loop_), found {}",
                describe(tokens.get(i))
            ),
        });
    }
    let mut values = Vec::new();
    while let Some(Token::Value(v)) = tokens.get(i) {
        values.push(v.clone());
        i += 1;
    }
    if values.len() % tags.len() != 0 {
        let last_line = values.last().map_or(loop_line, |v| v.line);
        return Err(CifError::Syntax {
            line: last_line,
            message: format!(
                "loop_ on line {loop_line} with {} columns has {} values, which do not fill whole rows (expected a multiple of {})",
                tags.len(),
                values.len(),
                tags.len()
            ),
        });
    }
    let width = tags.len();
    let mut rows = Vec::with_capacity(values.len() / width);
    let mut iter = values.into_iter();
    loop {
        let row: Vec<Value> = iter.by_ref().take(width).collect();
        if row.is_empty() {
            break;
        }
        rows.push(row);
    }
    Ok((
        Loop {
            tags,
            rows,
            line: loop_line,
        },
        i,
    ))
}

fn before_block(line: usize) -> CifError {
    CifError::Syntax {
        line,
        message: "content before the first data block (expected 'data_NAME')".into(),
    }
}

fn describe(token: Option<&Token>) -> String {
    match token {
        None => "the end of the file".into(),
        Some(Token::DataBlock { name, .. }) => format!("data_{name}"),
        Some(Token::Loop { .. }) => "loop_".into(),
        Some(Token::Save { name, .. }) => format!("save_{name}"),
        Some(Token::Reserved { word, .. }) => format!("'{word}'"),
        Some(Token::Tag { name, .. }) => format!("tag {name}"),
        Some(Token::Value(v)) => format!("value '{}'", shorten(&v.text)),
    }
}

fn shorten(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# leading comment
data_one
_cell_length_a 5.6402(3)
_title 'two words'
loop_
_atom_site_label
_atom_site_fract_x
Na1 0
Cl1 0.5
data_two
_Cell_Length_A 4
";

    #[test]
    fn blocks_pairs_and_loops_are_read() {
        let cif = parse(SAMPLE).unwrap();
        assert_eq!(cif.blocks.len(), 2);
        let one = &cif.blocks[0];
        assert_eq!(one.name, "one");
        assert_eq!(one.value("_cell_length_a").unwrap().text, "5.6402(3)");
        assert_eq!(one.value("_TITLE").unwrap().text, "two words");
        let (lp, col) = one.loop_of("_atom_site_fract_x").unwrap();
        assert_eq!(col, 1);
        assert_eq!(lp.rows.len(), 2);
        assert_eq!(lp.rows[1][0].text, "Cl1");
        let labels: Vec<_> = one
            .values("_atom_site_label")
            .iter()
            .map(|v| v.text.as_str())
            .collect();
        assert_eq!(labels, ["Na1", "Cl1"]);
        assert_eq!(cif.blocks[1].value("_cell_length_a").unwrap().text, "4");
    }

    #[test]
    fn ragged_loops_are_rejected_with_their_line() {
        let err = parse("data_x\nloop_\n_a\n_b\n1 2\n3\n").unwrap_err();
        match err {
            CifError::Syntax { line, message } => {
                assert_eq!(line, 6);
                assert!(message.contains("multiple of 2"), "{message}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn tags_without_values_and_stray_values_are_rejected() {
        assert!(matches!(
            parse("data_x\n_a\n_b 1\n"),
            Err(CifError::Syntax { line: 3, .. })
        ));
        assert!(matches!(
            parse("data_x\n_a 1 2\n"),
            Err(CifError::Syntax { line: 2, .. })
        ));
        assert!(matches!(
            parse("_a 1\n"),
            Err(CifError::Syntax { line: 1, .. })
        ));
        assert!(matches!(
            parse("data_x\nloop_\n1 2\n"),
            Err(CifError::Syntax { line: 3, .. })
        ));
    }

    #[test]
    fn save_frames_are_kept_apart() {
        let cif = parse("data_d\nsave_f\n_a 1\nsave_\n_b 2\n").unwrap();
        let block = &cif.blocks[0];
        assert_eq!(block.frames.len(), 1);
        assert!(block.value("_a").is_none());
        assert_eq!(block.value("_b").unwrap().text, "2");
        assert!(parse("data_d\nsave_f\n_a 1\n").is_err());
    }
}
