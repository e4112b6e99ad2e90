//! What the screen shows, as data: the layout and the precheck log's text. Used by the state
//! (`app`, to page and scroll) and by drawing (`ui`); imports neither.

pub mod alert;
pub mod layout;
pub mod log_text;
