//! A small builder for statements whose shape depends on the request (search filters, IN lists).
//! Only fixed SQL fragments from this crate go into the text; every value is a numbered bind
//! parameter (`$1`, `$2`, ...), which both SQLite and PostgreSQL accept.

use sqlx::any::AnyArguments;
use sqlx::Arguments;

pub(crate) struct SqlBuilder {
    text: String,
    args: AnyArguments<'static>,
    count: usize,
}

impl SqlBuilder {
    pub(crate) fn new(start: &'static str) -> Self {
        SqlBuilder {
            text: start.to_string(),
            args: AnyArguments::default(),
            count: 0,
        }
    }

    pub(crate) fn push(&mut self, fragment: &'static str) -> &mut Self {
        self.text.push_str(fragment);
        self
    }

    /// Appends a placeholder and binds `value` to it.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: 'static + Send + sqlx::Encode<'static, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.count += 1;
        self.text.push('$');
        self.text.push_str(&self.count.to_string());
        // Encoding into AnyArguments only fails for types Any cannot carry, which the bound
        // restricts away.
        let _ = self.args.add(value);
        self
    }

    /// Appends `(p1, p2, ...)` for the values.
    pub(crate) fn bind_list<T, I>(&mut self, values: I) -> &mut Self
    where
        I: IntoIterator<Item = T>,
        T: 'static + Send + sqlx::Encode<'static, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.text.push('(');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(value);
        }
        self.text.push(')');
        self
    }

    pub(crate) fn build(self) -> (String, AnyArguments<'static>) {
        (self.text, self.args)
    }
}
