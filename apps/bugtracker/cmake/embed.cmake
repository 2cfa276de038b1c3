# cmake -DOUT=<file.c> -DFILES="<a.sql|b.sql>" -P embed.cmake
#
# Writes OUT with one NUL-terminated array per file, named bt_sql_<stem>
# (bt_sql_seed_mysql for seed_mysql.sql), holding the file's bytes exactly,
# so the SQL lives in .sql files that the databases' own tools can run too.
string(REPLACE "|" ";" FILES "${FILES}")
set(body "/* Generated from apps/bugtracker/sql by cmake/embed.cmake: do not edit. */\n")
foreach(f ${FILES})
  get_filename_component(stem ${f} NAME_WE)
  file(READ ${f} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  # 16 bytes a line keeps the file readable by diff and grep.
  string(REGEX REPLACE "((0x..,){16})" "\\1\n  " hex "${hex}")
  string(APPEND body "const char bt_sql_${stem}[] = {\n  ${hex}0x00};\n")
endforeach()
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
