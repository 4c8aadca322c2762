//! How a value tells itself in a story, in its model's own words.

/// How a value of a design tells itself in the design's words ("prepare tx1").
pub trait Tell {
    /// The words.
    fn tell(&self) -> String;
}

impl Tell for () {
    fn tell(&self) -> String {
        String::new()
    }
}

/// Nothing yet ("none"), or the value.
impl<T: Tell> Tell for Option<T> {
    fn tell(&self) -> String {
        self.as_ref().map_or_else(|| "none".to_string(), Tell::tell)
    }
}
